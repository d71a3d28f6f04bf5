"""One clip to a model input array (C, T, V, M), in numpy only.

This is everything between an annotation dict and a model: preprocessing, optional
training augmentation, mirrored test views and stacked input streams.  It imports
no torch, so ONNX prediction (`helpers.evaluation.onnx_model`) shares it with
training and evaluation instead of keeping a second copy.
"""
from __future__ import annotations

import numpy as np

from helpers.config import AugmentConfig, PreprocessConfig
from helpers.data.layouts import Layout
from helpers.transforms import augment as aug
from helpers.transforms.augment import flip
from helpers.transforms.preprocess import preprocess_clip
from helpers.transforms.streams import stack_streams


def stream_channels(streams: list[str]) -> int:
    """Input channels C for a list of streams (2 coordinates each)."""
    return 2 * len(streams)


def evaluation_views(num_views: int, flip: bool = False) -> list[tuple[int, int, bool]]:
    """The (view, num_views, mirror) triples averaged at test time: `num_views` differently
    sampled copies of a clip, each also mirrored when `flip` (2 * num_views then)."""
    num_views = max(1, num_views)
    mirrors = (False, True) if flip else (False,)
    return [(k, num_views, mirror) for k in range(num_views) for mirror in mirrors]


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
