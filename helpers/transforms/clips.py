"""Clips to model input tensors (N, C, T, V, M), with optional training augmentation."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from helpers.config import AugmentConfig, PreprocessConfig
from helpers.data.layouts import Layout
from helpers.transforms import augment as aug
from helpers.transforms.augment import flip
from helpers.transforms.preprocess import preprocess_clip
from helpers.transforms.streams import stack_streams


def stream_channels(streams: list[str]) -> int:
    """Input channels C for a list of streams (2 coordinates each)."""
    return 2 * len(streams)


def _apply_streams(skeleton: np.ndarray, layout: Layout, streams: list[str]) -> np.ndarray:
    """(M, T, V, 2) -> (M, T, V, 2 * len(streams))."""
    if list(streams) == ["joint"]:
        return skeleton
    return stack_streams(skeleton, layout, streams)


def _augment(skeleton: np.ndarray, layout: Layout, augment: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Spatial augmentation of a normalised (M, T, V, 2) skeleton.

    Rotation, scale and flip are linear maps about the origin (the body centre), so
    missing joints, stored as 0, stay 0.
    """
    if augment.rotate_degrees > 0:
        skeleton = aug.random_rotate(skeleton, rng, augment.rotate_degrees)
    if augment.scale > 0:
        skeleton = aug.random_scale(skeleton, rng, 1 - augment.scale, 1 + augment.scale)
    if augment.flip_probability > 0:
        skeleton = aug.random_flip(skeleton, layout, rng, augment.flip_probability)
    return skeleton


def clip_to_input(clip: dict, layout: Layout, preprocess: PreprocessConfig, streams: list[str],
                  rng: np.random.Generator | None = None, augment: AugmentConfig | None = None,
                  view: int = 0, num_views: int = 1, mirror: bool = False) -> np.ndarray:
    """One annotation dict to a float32 array (C, T, V, M).

    Without `rng` everything is deterministic.  With `rng`, frames are sampled at
    random (unless `augment` turns random sampling off) and an enabled `augment`
    adds rotation, scale and flip.  View k of `num_views` is a fixed, differently
    sampled copy for multi-clip testing; `mirror` flips it (x negated, left/right
    joints swapped) for flip testing.
    """
    augmenting = augment is not None and augment.enabled and rng is not None
    sample_rng = rng if (not augmenting or augment.random_sampling) else None
    skeleton, _ = preprocess_clip(clip, layout, preprocess, sample_rng, view, num_views)   # (M, T, V, 2)
    if mirror:
        skeleton = flip(skeleton, layout)
    if augmenting:
        skeleton = _augment(skeleton, layout, augment, rng)
    features = _apply_streams(skeleton, layout, streams)                   # (M, T, V, C)
    return np.ascontiguousarray(features.transpose(3, 1, 2, 0), dtype=np.float32)   # (C, T, V, M)


class ClipDataset(Dataset):
    """Model inputs and labels of a list of clips.

    Without augmentation every clip is preprocessed once, up front, so an epoch
    costs no preprocessing (view k of `num_views`: a fixed, differently sampled
    copy, for multi-clip testing; `mirror`: its mirror image).  With augmentation each item is made afresh from a
    generator seeded by (seed, epoch, index), so runs are reproducible.
    Items: (input (C, T, V, M) float32 tensor, label int64 tensor).
    """

    def __init__(self, clips: list[dict], layout: Layout, preprocess: PreprocessConfig, streams: list[str],
                 augment: AugmentConfig | None = None, seed: int = 0, view: int = 0,
                 num_views: int = 1, mirror: bool = False):
        self.clips, self.layout, self.preprocess, self.streams = clips, layout, preprocess, streams
        self.augment = augment if augment is not None and augment.enabled else None
        self.seed, self.epoch = seed, 0
        self.labels = torch.tensor([clip["label"] for clip in clips], dtype=torch.long)
        self.inputs = None
        if self.augment is None:
            channels = stream_channels(streams)
            shape = (0, channels, preprocess.length, layout.num_joints, preprocess.max_persons)
            arrays = [
                clip_to_input(clip, layout, preprocess, streams, view=view, num_views=num_views, mirror=mirror)
                for clip in clips
            ]
            self.inputs = torch.from_numpy(np.stack(arrays)) if arrays else torch.zeros(shape)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int):
        if self.inputs is not None:
            return self.inputs[index], self.labels[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        features = clip_to_input(self.clips[index], self.layout, self.preprocess, self.streams, rng, self.augment)
        return torch.from_numpy(features), self.labels[index]
