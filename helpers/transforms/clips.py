"""Clips to model input tensors (N, C, T, V, M), with optional training augmentation (a torch Dataset).

The per-clip work is `helpers.transforms.inputs.clip_to_input` (numpy only)."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from helpers.config import AugmentConfig, PreprocessConfig
from helpers.data.layouts import Layout
from helpers.transforms.inputs import clip_to_input, stream_channels  # noqa: F401  (stream_channels: re-exported)


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
