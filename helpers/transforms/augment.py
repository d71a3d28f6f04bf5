"""Training augmentation and frame sampling: plain functions on 2D skeleton arrays.

Coordinates are shaped `(M, T, V, 2)` or `(T, V, 2)` (any leading axes work:
frames are axis -3, joints -2, x/y -1) and should already be centred on the body,
since rotation and scale act about the origin.  Every random function takes an
explicit `np.random.Generator`; nothing touches global random state.

Frame sampling follows PYSKL's `UniformSampleFrames`: the clip is split into
`clip_len` equal segments and one frame is drawn from each (randomly for
training, at fixed offsets for testing), so indices are sorted and clips shorter
than `clip_len` repeat frames instead of looping.
"""
from __future__ import annotations

import numpy as np

from helpers.data.layouts import Layout


# ----------------------------------------------------------------------------- spatial


def rotate(x: np.ndarray, angle: float) -> np.ndarray:
    """Rotate every point by `angle` radians about the origin in the image plane; same shape."""
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]], dtype=x.dtype)  # (2, 2)
    return x @ rotation.T


def random_rotate(x: np.ndarray, rng: np.random.Generator, max_degrees: float = 10.0) -> np.ndarray:
    """Rotate by an angle drawn uniformly from [-max_degrees, max_degrees]; same shape."""
    return rotate(x, np.deg2rad(rng.uniform(-max_degrees, max_degrees)))


def random_scale(
    x: np.ndarray, rng: np.random.Generator, low: float = 0.9, high: float = 1.1, per_axis: bool = False
) -> np.ndarray:
    """Multiply coordinates by a factor drawn from [low, high] (one per axis if `per_axis`); same shape."""
    factor = rng.uniform(low, high, size=2 if per_axis else 1).astype(x.dtype)  # (2,) or (1,)
    return x * factor


def flip(x: np.ndarray, layout: Layout) -> np.ndarray:
    """Mirror horizontally: negate x and swap every left joint with its right twin; same shape."""
    out = x[..., layout.flip_permutation(), :].copy()  # (..., V, 2)
    out[..., 0] = -out[..., 0]
    return out


def random_flip(x: np.ndarray, layout: Layout, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """`flip` with probability `p`, else `x` unchanged; same shape."""
    return flip(x, layout) if rng.random() < p else x


# ----------------------------------------------------------------------------- temporal


def _segment_bounds(num_frames: int, clip_len: int) -> tuple[np.ndarray, np.ndarray]:
    edges = np.linspace(0.0, num_frames, clip_len + 1)  # (clip_len + 1,)
    if num_frames >= clip_len:
        # whole-frame segments (each at least one frame wide), so no frame is drawn twice
        edges = np.floor(edges)
    return edges[:-1], edges[1:] - edges[:-1]  # starts, widths: (clip_len,) each


def random_sample_indices(num_frames: int, clip_len: int, rng: np.random.Generator) -> np.ndarray:
    """Training frame indices, shape (clip_len,): one random frame from each of `clip_len` equal segments."""
    starts, widths = _segment_bounds(num_frames, clip_len)
    idx = np.floor(starts + rng.random(clip_len) * widths).astype(np.int64)
    return np.clip(idx, 0, num_frames - 1)


def uniform_sample_indices(num_frames: int, clip_len: int, num_clips: int = 1) -> np.ndarray:
    """Deterministic test indices, shape (num_clips, clip_len): clip k takes offset (k + 0.5) / num_clips
    inside every segment."""
    starts, widths = _segment_bounds(num_frames, clip_len)
    offsets = (np.arange(num_clips) + 0.5) / num_clips  # (num_clips,)
    idx = np.floor(starts[None] + offsets[:, None] * widths[None]).astype(np.int64)
    return np.clip(idx, 0, num_frames - 1)
