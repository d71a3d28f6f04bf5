"""Preprocessing of one clip: person choice, fixed length, centring and scaling.

Plain functions on numpy arrays.  Anything random takes an explicit
`np.random.Generator`; with none given, the result is deterministic.
"""
from __future__ import annotations

import numpy as np

from helpers.config import PreprocessConfig
from helpers.data.layouts import Layout
from helpers.errors import UserInputError
from helpers.transforms.augment import random_sample_indices, uniform_sample_indices


def rank_persons(score: np.ndarray, strategy: str = "max_score") -> np.ndarray:
    """Person slots in the order they are used, shape (M,).

    score: (M, T, V).  Slots are filled per frame in detection order and zero-filled
    where nobody was detected, so slot 0 is not reliably the main actor: by default
    the person with the highest total score comes first.
    """
    if strategy == "first":
        return np.arange(score.shape[0])
    if strategy == "max_score":
        totals = score.astype(np.float64).sum(axis=(1, 2))
        return np.argsort(-totals, kind="stable")
    raise UserInputError(f"unknown person strategy {strategy!r}; use 'max_score' or 'first'")


def fix_length(array: np.ndarray, length: int, sampling: str = "loop",
               rng: np.random.Generator | None = None, axis: int = 0, view: int = 0,
               num_views: int = 1) -> np.ndarray:
    """Resample `array` to `length` frames along `axis`.

    'loop' (the report): crop to `length` if longer, repeat the clip from its start
    if shorter; the crop starts at 0, at a random offset with `rng`, or, for view k
    of `num_views`, at evenly spread offsets.  'uniform' (PYSKL's UniformSampleFrames):
    one frame from each of `length` equal segments, at random with `rng`, else at
    offset (k + 0.5) / num_views inside every segment.
    """
    frames = array.shape[axis]
    if sampling == "loop":
        if frames >= length:
            if rng is not None:
                start = int(rng.integers(0, frames - length + 1))
            else:
                start = (frames - length) * view // max(1, num_views - 1) if num_views > 1 else 0
            index = np.arange(start, start + length)
        else:
            index = np.arange(length) % frames
    elif sampling == "uniform":
        if rng is not None:
            index = random_sample_indices(frames, length, rng)
        else:
            index = uniform_sample_indices(frames, length, num_views)[view]
    else:
        raise UserInputError(f"unknown sampling {sampling!r}; use 'loop' or 'uniform'")
    return np.take(array, index, axis=axis)


def normalize(keypoint: np.ndarray, score: np.ndarray, layout: Layout, min_score: float = 0.2,
              center: str = "clip") -> np.ndarray:
    """Centre on the layout's centre joints and divide by its torso length; missing joints become 0.

    keypoint: (M, T, V, 2) pixels, score: (M, T, V).  The centre and scale come from
    person 0 (the main person) and are applied to every person, so relative
    positions survive.  Joints scored below `min_score` (including zero-filled
    missed detections) are set to 0 (the centre) after normalisation.
    Returns float32 (M, T, V, 2).
    """
    keypoint = keypoint.astype(np.float32)
    valid = score >= min_score                                     # (M, T, V)
    main, main_valid = keypoint[0], valid[0]                       # (T, V, 2), (T, V)
    centre_ok = main_valid[:, list(layout.center)].all(axis=1)     # (T,)
    centre = main[:, list(layout.center)].mean(axis=1)             # (T, 2)
    if not centre_ok.any():
        # no frame with a visible centre: fall back to the mean of the visible joints
        visible = main_valid if main_valid.any() else np.ones_like(main_valid)
        fallback = (main * visible[..., None]).sum(axis=(0, 1)) / visible.sum()
        centre, centre_ok = np.broadcast_to(fallback, centre.shape).copy(), np.ones_like(centre_ok)
    clip_centre = centre[centre_ok].mean(axis=0)
    if center == "clip":
        offset = np.broadcast_to(clip_centre, centre.shape)
    elif center == "frame":
        # frames without a visible centre use the clip centre
        offset = np.where(centre_ok[:, None], centre, clip_centre)
    else:
        raise UserInputError(f"unknown centring {center!r}; use 'clip' or 'frame'")
    lengths = []
    for shoulder, hip in layout.torso:
        both = main_valid[:, shoulder] & main_valid[:, hip]
        lengths.append(np.linalg.norm(main[both, shoulder] - main[both, hip], axis=-1))
    lengths = np.concatenate(lengths)
    scale = float(lengths.mean()) if lengths.size and lengths.mean() > 1e-6 else _extent(main, main_valid)
    out = ((keypoint - offset[None, :, None, :]) / scale).astype(np.float32)
    out[~valid] = 0.0
    return out


def _extent(points: np.ndarray, valid: np.ndarray) -> float:
    """Fallback scale: the larger side of the visible joints' bounding box (1.0 if degenerate)."""
    if not valid.any():
        return 1.0
    visible = points[valid]
    extent = float((visible.max(axis=0) - visible.min(axis=0)).max())
    return extent if extent > 1e-6 else 1.0


def preprocess_clip(clip: dict, layout: Layout, config: PreprocessConfig,
                    rng: np.random.Generator | None = None, view: int = 0,
                    num_views: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """One annotation dict to model input.

    Frames are sampled at random with `rng`, else deterministically (view k of
    `num_views` for multi-clip testing).
    Returns (skeleton (M, T, V, 2) float32 with M = config.max_persons and
    T = config.length, person_order (M',) the slots used, in order).  Missing
    persons are zero-filled.
    """
    keypoint, score = clip["keypoint"], clip["keypoint_score"]    # (M, T, V, 2), (M, T, V)
    if keypoint.shape[2] != layout.num_joints:
        raise UserInputError(
            f"clip {clip.get('frame_dir', '?')!r}: field 'keypoint' has {keypoint.shape[2]} joints, "
            f"layout {layout.name} expects {layout.num_joints}"
        )
    order = rank_persons(score, config.person)[: config.max_persons]
    keypoint, score = keypoint[order], score[order]
    # resample coordinates and scores together so random offsets match
    joined = np.concatenate([keypoint.astype(np.float32), score[..., None].astype(np.float32)], axis=-1)
    joined = fix_length(joined, config.length, config.sampling, rng, axis=1, view=view, num_views=num_views)   # (M, T, V, 3)
    keypoint, score = joined[..., :2], joined[..., 2]
    skeleton = normalize(keypoint, score, layout, config.min_score, config.center)
    if skeleton.shape[0] < config.max_persons:
        pad = np.zeros((config.max_persons - skeleton.shape[0],) + skeleton.shape[1:], np.float32)
        skeleton = np.concatenate([skeleton, pad])
    return skeleton, order
