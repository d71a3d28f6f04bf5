"""What every keypoint import format shares: one-line input errors, clip arrays, layout and labels.

The format readers (`helpers.data.importers.ddnet`, `helpers.data.importers.folder`) turn their
input into keypoint (M, T, V, 2) and score (M, T, V) arrays with `to_clip_arrays`,
pick the layout with `resolve_layout` and build PYSKL annotations with
`make_annotation`.
"""
from __future__ import annotations

import re

import numpy as np

from helpers.errors import UserInputError
from helpers.data.layouts import Layout, get_layout, layout_for_joint_count


def fail(where, message: str):
    raise UserInputError(f"{where}: {message}")


def to_clip_arrays(array: np.ndarray, where: str, score: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, V, 2|3) or (M, T, V, 2|3) -> keypoint (M, T, V, 2) float64, score (M, T, V) float64.

    A third channel is the score; without one (and no `score`) scores are 1.
    NaN coordinates or scores mark missing joints: coordinates 0, score 0.
    """
    if not isinstance(array, np.ndarray) or not (np.issubdtype(array.dtype, np.integer)
                                                 or np.issubdtype(array.dtype, np.floating)):
        fail(where, f"expected a numeric array, got {getattr(array, 'dtype', type(array).__name__)}")
    if score is not None and (not isinstance(score, np.ndarray) or score.dtype.kind not in "fiu"):
        fail(where, f"expected numeric scores, got {getattr(score, 'dtype', type(score).__name__)}")
    if array.ndim == 3:
        array = array[None]
        score = None if score is None else score[None]
    if array.ndim != 4 or array.shape[-1] not in (2, 3) or 0 in array.shape:
        fail(where, f"expected keypoints shaped (T, V, 2|3) or (M, T, V, 2|3), got {array.shape}")
    array = array.astype(np.float64)
    keypoint = array[..., :2]
    if score is None:
        score = array[..., 2] if array.shape[-1] == 3 else np.ones(array.shape[:3])
    score = np.asarray(score, dtype=np.float64)
    if score.shape != keypoint.shape[:3]:
        fail(where, f"scores shaped {score.shape} do not match keypoints (M, T, V) = {keypoint.shape[:3]}")
    if np.isinf(keypoint).any() or np.isinf(score).any():
        fail(where, "keypoints or scores contain inf")
    missing = np.isnan(keypoint).any(axis=-1) | np.isnan(score)        # (M, T, V)
    keypoint = np.where(missing[..., None], 0.0, keypoint)
    score = np.where(missing, 0.0, score)
    return keypoint, score


def resolve_layout(joint_counts: dict[int, str], layout_name: str | None) -> Layout:
    """The layout for clips whose joint counts map to a source each (file, or file and clip).

    Refuses mixed counts, a named layout of another size, and an unknown count
    without `layout_name`; every message names a file.
    """
    if len(joint_counts) > 1:
        (a, where_a), (b, where_b) = sorted(joint_counts.items())[:2]
        raise UserInputError(f"inconsistent joint counts: {where_a} has {a} joints, {where_b} has {b}")
    ((count, where),) = joint_counts.items()
    try:
        layout = get_layout(layout_name) if layout_name else layout_for_joint_count(count)
    except ValueError as error:
        raise UserInputError(f"{where}: {error}") from None
    if layout.num_joints != count:
        fail(where, f"has {count} joints but layout {layout.name} has {layout.num_joints}")
    return layout


def make_annotation(frame_dir: str, label: int, keypoint: np.ndarray, score: np.ndarray, dtype: str,
                    img_shape: tuple[int, int] | None = None) -> dict:
    """A PYSKL annotation dict from keypoint (M, T, V, 2) and score (M, T, V)."""
    clip = {"frame_dir": frame_dir, "label": int(label), "total_frames": int(keypoint.shape[1]),
            "keypoint": keypoint.astype(dtype), "keypoint_score": score.astype(dtype)}
    if img_shape is not None:
        clip["img_shape"] = clip["original_shape"] = tuple(int(s) for s in img_shape)
    return clip


def sorted_class_names(labels) -> list[str]:
    """Distinct labels as strings, sorted numerically when all are integers, else alphabetically."""
    names = {str(label) for label in labels}
    if all(re.fullmatch(r"-?\d+", name) for name in names):
        return sorted(names, key=int)
    return sorted(names)
