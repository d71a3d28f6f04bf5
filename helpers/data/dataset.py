"""The project's dataset format: the PYSKL / MMAction2 2D skeleton pickle.

A dataset file is `{'split': {name: [frame_dir, ...]}, 'annotations': [clip, ...]}`
(`ucf101_2d.pkl`, `hmdb51_2d.pkl`, `ntu60_2d.pkl`, ...).  Each clip holds
`frame_dir`, `label`, `keypoint` (M, T, V, 2) and usually `keypoint_score` (M, T, V).
Files written by this project may add `class_names` and `layout` at the top level.

Everything read here is validated; errors name the file, the clip and the field.
"""
from __future__ import annotations

import collections
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers.data.class_names import HMDB51_CLASS_NAMES, UCF101_CLASS_NAMES
from helpers.data.clip_ids import parse_clip_id
from helpers.errors import UserInputError, printable, quote
from helpers.io import atomic_write
from helpers.data.layouts import Layout, get_layout, layout_for_joint_count
from helpers.data.safe_pickle import safe_load


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
        self._index = dict(zip(frame_dirs, range(len(frame_dirs))))  # ids are unique (validate_dataset)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def clip(self, frame_dir: str) -> dict:
        if frame_dir not in self._index:
            raise UserInputError(f"{self.source}: no clip with frame_dir {quote(frame_dir)}")
        return self.annotations[self._index[frame_dir]]

    def release_pages(self) -> None:
        """Let go of the resident pages of memory-mapped clips already read (a cached dataset's
        `CachedClips.release_pages`); clips in memory stay as they are."""
        release = getattr(self.annotations, "release_pages", None)
        if release is not None:
            release()

    def split_clips(self, split_name: str) -> list[dict]:
        """The clips of split `split_name` (e.g. 'train1'); unknown names list the known ones."""
        if split_name not in self.split:
            raise UserInputError(
                f"{self.source}: unknown split {quote(split_name)}; the file has: "
                f"{printable(', '.join(sorted(self.split)))}"
            )
        return [self.clip(frame_dir) for frame_dir in self.split[split_name]]


MAX_UNNAMED_CLASSES = 10_000  # labels of a file without class_names get made-up names, one per label up to the largest


def _fail(path, message: str):
    raise UserInputError(f"{path}: {message}")


# bit masks of the exponent of IEEE floats: all ones means inf or NaN
_EXPONENT_BITS = {np.dtype(np.float16): (np.uint16, 0x7C00), np.dtype(np.float32): (np.uint32, 0x7F800000),
                  np.dtype(np.float64): (np.uint64, 0x7FF0000000000000)}


def all_finite(array: np.ndarray) -> bool:
    """Whether a numeric array holds no NaN or inf: for float16/32/64 by their exponent bits, which is
    several times faster than np.isfinite on the float16 arrays of the official files."""
    spec = _EXPONENT_BITS.get(array.dtype)
    if spec is None:
        return bool(np.isfinite(array).all())
    bits, mask = spec
    return not ((array.view(bits) & mask) == mask).any()


def _numeric(array) -> bool:
    return array.dtype.kind in "fiu"  # floats and integers; not bool, complex, object or text


class _ClipWhere:
    """'clip <id>' for messages, quoted only when a message is made (validation runs per clip)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __str__(self) -> str:
        return f"clip {quote(self.name)}"

    __format__ = lambda self, spec: str(self)  # noqa: E731  (f-strings call __format__)


def validate_clip(clip, path, num_classes: int | None = None, position: int | None = None) -> dict:
    """Check one annotation dict; returns it with `keypoint_score` filled (ones) if absent."""
    where = f"annotation #{position}" if position is not None else "annotation"
    if not isinstance(clip, dict):
        _fail(path, f"{where}: expected a dict, got {type(clip).__name__}")
    if "frame_dir" not in clip:
        _fail(path, f"{where}: missing key 'frame_dir'")
    name = clip["frame_dir"]
    if not isinstance(name, str) or not name:
        _fail(path, f"{where}: field 'frame_dir' must be a non-empty string, got {quote(name)}")
    where = _ClipWhere(name)
    for key in ("label", "keypoint"):
        if key not in clip:
            _fail(path, f"{where}: missing key '{key}'")
    label = clip["label"]
    if not isinstance(label, (int, np.integer)) or isinstance(label, (bool, np.bool_)):
        _fail(path, f"{where}: field 'label' must be an integer, got {quote(label)}")
    if label < 0 or (num_classes is not None and label >= num_classes):
        names = f" (the file names {num_classes} classes)" if num_classes is not None else ""
        _fail(path, f"{where}: field 'label' = {label} is out of range 0..{(num_classes or 1) - 1}{names}")
    keypoint = clip["keypoint"]
    if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 4 or keypoint.shape[-1] != 2:
        shape = keypoint.shape if isinstance(keypoint, np.ndarray) else type(keypoint).__name__
        _fail(path, f"{where}: field 'keypoint' must be an array [M, T, V, 2], got {shape}")
    persons, frames, joints, _ = keypoint.shape
    if persons == 0:
        _fail(path, f"{where}: field 'keypoint' has no person (M == 0)")
    if frames == 0:
        _fail(path, f"{where}: field 'keypoint' has no frame (T == 0)")
    if joints == 0:
        _fail(path, f"{where}: field 'keypoint' has no joint (V == 0)")
    if not _numeric(keypoint):
        _fail(path, f"{where}: field 'keypoint' must be numeric, got dtype {keypoint.dtype}")
    if not all_finite(keypoint):
        _fail(path, f"{where}: field 'keypoint' contains NaN or inf")
    score = clip.get("keypoint_score")
    if score is None:
        clip = {**clip, "keypoint_score": np.ones(keypoint.shape[:3], dtype=np.float16)}
    else:
        if not isinstance(score, np.ndarray) or score.shape != keypoint.shape[:3]:
            shape = score.shape if isinstance(score, np.ndarray) else type(score).__name__
            _fail(path, f"{where}: field 'keypoint_score' must be an array [M, T, V] = "
                        f"{list(keypoint.shape[:3])}, got {shape}")
        if not _numeric(score):
            _fail(path, f"{where}: field 'keypoint_score' must be numeric, got dtype {score.dtype}")
        if not all_finite(score):
            _fail(path, f"{where}: field 'keypoint_score' contains NaN or inf")
    return clip


def _default_class_names(path, labels: list[int], annotations: list[dict]) -> list[str]:
    """Class names when the file carries none: known datasets by file name, else from UCF-style ids.

    A label takes the class name of its ids (`v_<Class>_gXX_cYY`) when all its ids agree on
    one that no other label's ids use; otherwise it is named `class_<label>`.  Names made up
    here never repeat.
    """
    stem = Path(path).name.lower()
    if "ucf101" in stem:
        return list(UCF101_CLASS_NAMES)
    if "hmdb51" in stem:
        return list(HMDB51_CLASS_NAMES)
    num_classes = max(labels) + 1
    if num_classes > MAX_UNNAMED_CLASSES:
        clip = next(c for c in annotations if c["label"] == num_classes - 1)
        _fail(path, f"clip {quote(clip['frame_dir'])}: field 'label' = {num_classes - 1} is out of range: a file "
                    f"without 'class_names' may use labels 0..{MAX_UNNAMED_CLASSES - 1}")
    found: dict[int, set[str]] = {}
    for clip in annotations:
        parsed = parse_clip_id(clip["frame_dir"])
        found.setdefault(clip["label"], set()).add(parsed.class_name if parsed else None)
    claims: dict[str, int] = {}
    for names in found.values():
        if len(names) == 1 and None not in names:
            (name,) = names
            claims[name] = claims.get(name, 0) + 1
    names = [f"class_{i}" for i in range(num_classes)]  # ids' names have no '_', so never collide with these
    for label, candidates in found.items():
        if len(candidates) == 1 and None not in candidates and claims[next(iter(candidates))] == 1:
            names[label] = next(iter(candidates))
    return names


def _check_splits(path, split: dict, known: set[str]) -> None:
    """Every split lists known, distinct ids, and train<N> / test<N> share none."""
    for name, members in split.items():
        if not all(type(member) is str for member in members):
            bad = next(member for member in members if type(member) is not str)
            _fail(path, f"split {quote(name)}: entries must be clip id strings, got {quote(bad)}")
        if len(set(members)) != len(members):
            counts = collections.Counter(members)
            clip, times = counts.most_common(1)[0]
            repeated = sum(1 for n in counts.values() if n > 1)
            _fail(path, f"split {quote(name)} lists clip {quote(clip)} {times} times "
                        f"({repeated} clip{'s' if repeated > 1 else ''} repeated); each clip may appear once")
        missing = [m for m in members if m not in known]
        if missing:
            _fail(path, f"split {quote(name)}: {len(missing)} ids not in annotations, e.g. {quote(missing[0])}")
    for name, members in split.items():
        other = f"test{name[5:]}" if name.startswith("train") else None
        if other in split:
            both = set(members) & set(split[other])
            if both:
                _fail(path, f"splits {quote(name)} and {quote(other)} share {len(both)} clip"
                            f"{'s' if len(both) > 1 else ''}, e.g. {quote(min(both))}; a clip is trained or "
                            "tested, never both")


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
    if class_names is not None:
        if not isinstance(class_names, (list, tuple)) or not class_names or not all(
                isinstance(n, str) and n for n in class_names):
            _fail(path, "field 'class_names' must be a non-empty list of non-empty strings")
        if len(set(class_names)) != len(class_names):
            twice = collections.Counter(class_names).most_common(1)[0][0]
            _fail(path, f"field 'class_names' names {quote(twice)} twice; each class needs its own name")
    num_classes = len(class_names) if class_names is not None else None
    clips = [validate_clip(clip, path, num_classes, i) for i, clip in enumerate(annotations)]
    joint_counts = {clip["keypoint"].shape[2] for clip in clips}
    if len(joint_counts) != 1:
        _fail(path, f"field 'keypoint': clips have different joint counts {sorted(joint_counts)}")
    (num_joints,) = joint_counts
    try:
        layout = get_layout(data["layout"]) if "layout" in data else layout_for_joint_count(num_joints)
    except (ValueError, TypeError) as error:
        _fail(path, f"field 'layout': {error}")
    if layout.num_joints != num_joints:
        _fail(path, f"field 'layout': {layout.name} has {layout.num_joints} joints but keypoints have {num_joints}")
    ids = [clip["frame_dir"] for clip in clips]
    if len(set(ids)) != len(ids):
        clip, times = collections.Counter(ids).most_common(1)[0]
        _fail(path, f"field 'frame_dir': clip id {quote(clip)} is used by {times} clips; ids must be unique")
    _check_splits(path, split, set(ids))
    if class_names is None:
        class_names = _default_class_names(path, [c["label"] for c in clips], clips)
        for clip in clips:
            if clip["label"] >= len(class_names):
                _fail(path, f"clip {quote(clip['frame_dir'])}: field 'label' = {clip['label']} is out of range "
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
