"""The project's dataset format: the PYSKL / MMAction2 2D skeleton pickle.

A dataset file is `{'split': {name: [frame_dir, ...]}, 'annotations': [clip, ...]}`
(`ucf101_2d.pkl`, `hmdb51_2d.pkl`, `ntu60_2d.pkl`, ...).  Each clip holds
`frame_dir`, `label`, `keypoint` (M, T, V, 2) and usually `keypoint_score` (M, T, V).
Files written by this project may add `class_names` and `layout` at the top level.

Everything read here is validated; errors name the file, the clip and the field.
"""
from __future__ import annotations

import os
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers.data.class_names import HMDB51_CLASS_NAMES, UCF101_CLASS_NAMES
from helpers.errors import UserInputError
from helpers.io import atomic_write
from helpers.data.layouts import Layout, get_layout, layout_for_joint_count
from helpers.data.safe_pickle import safe_load

_UCF_ID = re.compile(r"^v_(?P<name>[A-Za-z0-9]+)_g(?P<group>\d+)_c(?P<clip>\d+)$")


@dataclass
class SkeletonDataset:
    """Validated clips plus their splits, class names and skeleton layout.

    `annotations` is a list of clip dicts, or a read-only sequence of them (the
    dataset cache's `CachedClips`, which makes each dict on first access and lists
    the ids as `frame_dirs`, so that indexing them needs no clip).
    """

    annotations: Sequence[dict]
    split: dict[str, list[str]]
    class_names: list[str]
    layout: Layout
    source: str  # file path or a description of where the clips came from
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        frame_dirs = getattr(self.annotations, "frame_dirs", None)
        if frame_dirs is None:
            frame_dirs = [clip["frame_dir"] for clip in self.annotations]
        self._index = dict(zip(frame_dirs, range(len(frame_dirs))))  # a repeated id: its last clip, as before

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def clip(self, frame_dir: str) -> dict:
        if frame_dir not in self._index:
            raise UserInputError(f"{self.source}: no clip with frame_dir {frame_dir!r}")
        return self.annotations[self._index[frame_dir]]

    def split_clips(self, split_name: str) -> list[dict]:
        """The clips of split `split_name` (e.g. 'train1'); unknown names list the known ones."""
        if split_name not in self.split:
            raise UserInputError(
                f"{self.source}: unknown split {split_name!r}; the file has: {', '.join(sorted(self.split))}"
            )
        return [self.clip(frame_dir) for frame_dir in self.split[split_name]]


def _fail(path, message: str):
    raise UserInputError(f"{path}: {message}")


def validate_clip(clip, path, num_classes: int | None = None, position: int | None = None) -> dict:
    """Check one annotation dict; returns it with `keypoint_score` filled (ones) if absent."""
    where = f"annotation #{position}" if position is not None else "annotation"
    if not isinstance(clip, dict):
        _fail(path, f"{where}: expected a dict, got {type(clip).__name__}")
    if "frame_dir" not in clip:
        _fail(path, f"{where}: missing key 'frame_dir'")
    name = clip["frame_dir"]
    if not isinstance(name, str):
        _fail(path, f"{where}: field 'frame_dir' must be a string")
    where = f"clip {name!r}"
    for key in ("label", "keypoint"):
        if key not in clip:
            _fail(path, f"{where}: missing key '{key}'")
    label = clip["label"]
    if not isinstance(label, (int, np.integer)) or isinstance(label, bool):
        _fail(path, f"{where}: field 'label' must be an integer, got {label!r}")
    if label < 0 or (num_classes is not None and label >= num_classes):
        _fail(path, f"{where}: field 'label' = {label} is out of range 0..{(num_classes or 1) - 1}")
    keypoint = clip["keypoint"]
    if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 4 or keypoint.shape[-1] != 2:
        shape = getattr(keypoint, "shape", type(keypoint).__name__)
        _fail(path, f"{where}: field 'keypoint' must be an array [M, T, V, 2], got {shape}")
    persons, frames, joints, _ = keypoint.shape
    if persons == 0:
        _fail(path, f"{where}: field 'keypoint' has no person (M == 0)")
    if frames == 0:
        _fail(path, f"{where}: field 'keypoint' has no frame (T == 0)")
    if not np.issubdtype(keypoint.dtype, np.floating) and not np.issubdtype(keypoint.dtype, np.integer):
        _fail(path, f"{where}: field 'keypoint' must be numeric, got dtype {keypoint.dtype}")
    if not np.isfinite(keypoint).all():
        _fail(path, f"{where}: field 'keypoint' contains NaN or inf")
    score = clip.get("keypoint_score")
    if score is None:
        clip = {**clip, "keypoint_score": np.ones(keypoint.shape[:3], dtype=np.float16)}
    else:
        if not isinstance(score, np.ndarray) or score.shape != keypoint.shape[:3]:
            shape = getattr(score, "shape", type(score).__name__)
            _fail(path, f"{where}: field 'keypoint_score' must be an array [M, T, V] = "
                        f"{list(keypoint.shape[:3])}, got {shape}")
        if not np.isfinite(score).all():
            _fail(path, f"{where}: field 'keypoint_score' contains NaN or inf")
    return clip


def _default_class_names(path, labels: list[int], annotations: list[dict]) -> list[str]:
    """Class names when the file carries none: known datasets by file name, else from UCF-style ids."""
    stem = Path(path).name.lower()
    if "ucf101" in stem:
        return list(UCF101_CLASS_NAMES)
    if "hmdb51" in stem:
        return list(HMDB51_CLASS_NAMES)
    num_classes = max(labels) + 1
    names = [f"class_{i}" for i in range(num_classes)]
    for clip in annotations:
        match = _UCF_ID.match(clip["frame_dir"])
        if match:
            names[clip["label"]] = match["name"]
    return names


def validate_dataset(data, path) -> SkeletonDataset:
    """Validate a loaded dataset object (see module docstring) and wrap it."""
    if not isinstance(data, dict):
        _fail(path, f"top level must be a dict with 'split' and 'annotations', got {type(data).__name__}")
    for key in ("split", "annotations"):
        if key not in data:
            _fail(path, f"missing top-level key '{key}'")
    split, annotations = data["split"], data["annotations"]
    if not isinstance(split, dict) or not all(
        isinstance(k, str) and isinstance(v, (list, tuple)) for k, v in split.items()
    ):
        _fail(path, "field 'split' must map split names to lists of frame_dir strings")
    if not isinstance(annotations, (list, tuple)) or not annotations:
        _fail(path, "field 'annotations' must be a non-empty list of clip dicts")
    class_names = data.get("class_names")
    if class_names is not None and (
        not isinstance(class_names, (list, tuple)) or not all(isinstance(n, str) for n in class_names)
    ):
        _fail(path, "field 'class_names' must be a list of strings")
    num_classes = len(class_names) if class_names is not None else None
    clips = [validate_clip(clip, path, num_classes, i) for i, clip in enumerate(annotations)]
    joint_counts = {clip["keypoint"].shape[2] for clip in clips}
    if len(joint_counts) != 1:
        _fail(path, f"field 'keypoint': clips have different joint counts {sorted(joint_counts)}")
    (num_joints,) = joint_counts
    try:
        layout = get_layout(data["layout"]) if "layout" in data else layout_for_joint_count(num_joints)
    except ValueError as error:
        _fail(path, f"field 'layout': {error}")
    if layout.num_joints != num_joints:
        _fail(path, f"field 'layout': {layout.name} has {layout.num_joints} joints but keypoints have {num_joints}")
    ids = [clip["frame_dir"] for clip in clips]
    if len(set(ids)) != len(ids):
        _fail(path, "field 'frame_dir': duplicate clip ids")
    known = set(ids)
    for name, members in split.items():
        missing = [m for m in members if m not in known]
        if missing:
            _fail(path, f"split '{name}': {len(missing)} ids not in annotations, e.g. {missing[0]!r}")
    if class_names is None:
        class_names = _default_class_names(path, [c["label"] for c in clips], clips)
        for clip in clips:
            if clip["label"] >= len(class_names):
                _fail(path, f"clip {clip['frame_dir']!r}: field 'label' = {clip['label']} is out of range "
                            f"0..{len(class_names) - 1}")
    return SkeletonDataset(clips, {k: list(v) for k, v in split.items()}, list(class_names), layout, str(path))


def load_dataset(path: str | os.PathLike) -> SkeletonDataset:
    """Load and validate a dataset pickle with the restricted unpickler."""
    return validate_dataset(safe_load(path), path)


def save_dataset(data: dict, path: str | os.PathLike) -> Path:
    """Write a dataset dict as a pickle atomically (temp file in the same folder, then rename)."""
    return atomic_write(path, lambda file: pickle.dump(data, file, protocol=pickle.HIGHEST_PROTOCOL))


def to_dict(dataset: SkeletonDataset) -> dict:
    """The pickle-ready dict of a dataset (the format `load_dataset` reads)."""
    return {
        "split": dataset.split,
        "annotations": dataset.annotations if isinstance(dataset.annotations, list) else list(dataset.annotations),
        "class_names": dataset.class_names,
        "layout": dataset.layout.name,
    }


def select_classes(dataset: SkeletonDataset, classes: list[int | str]) -> SkeletonDataset:
    """Keep only `classes` (ids or names), relabelled 0..K-1 in the order given, names kept."""
    ids = []
    for item in classes:
        if isinstance(item, str) and not item.isdigit():
            if item not in dataset.class_names:
                raise UserInputError(f"{dataset.source}: unknown class name {item!r}")
            ids.append(dataset.class_names.index(item))
        else:
            index = int(item)
            if not 0 <= index < dataset.num_classes:
                raise UserInputError(f"{dataset.source}: class id {index} out of range 0..{dataset.num_classes - 1}")
            ids.append(index)
    if len(set(ids)) != len(ids):
        raise UserInputError(f"{dataset.source}: class list {classes} names a class twice")
    new_label = {old: new for new, old in enumerate(ids)}
    clips = [{**c, "label": new_label[c["label"]]} for c in dataset.annotations if c["label"] in new_label]
    kept = {c["frame_dir"] for c in clips}
    split = {name: [m for m in members if m in kept] for name, members in dataset.split.items()}
    names = [dataset.class_names[i] for i in ids]
    return SkeletonDataset(clips, split, names, dataset.layout, dataset.source)
