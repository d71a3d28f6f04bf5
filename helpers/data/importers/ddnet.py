"""The `ddnet` import format: DD-Net / JHMDB pickles, read by `python -m helpers.convert ddnet`.

DD-Net / JHMDB pickles `{'pose': [array (T, V, 2)], 'label': [str]}`, one
train/test pair per split, numbered 1, 2, ... in the order given.  Pickles are
read with the restricted unpickler.  There are no scores: they are set to 1.
Class names are sorted alphabetically (numerically if all labels are integers).
Clip ids are `<label>_<side><N>_<index in that file>` (e.g. `clap_train1_0007`);
a pose array of a later split that equals one of an earlier split (same label,
same values) reuses that clip, so one video is stored once.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from helpers.errors import UserInputError
from helpers.data.importers.common import fail, make_annotation, resolve_layout, sorted_class_names, to_clip_arrays
from helpers.data.safe_pickle import safe_load


def read_ddnet_file(path: str | Path) -> tuple[list[np.ndarray], list[str]]:
    """Poses [(T, V, 2)] and labels [str] of one DD-Net pickle, read with the restricted unpickler."""
    data = safe_load(path)
    if not isinstance(data, dict) or "pose" not in data or "label" not in data:
        fail(path, "expected a DD-Net pickle: a dict with 'pose' (list of (T, V, 2) arrays) and 'label'")
    poses, labels = data["pose"], data["label"]
    if not all(isinstance(field, (list, tuple)) or (isinstance(field, np.ndarray) and field.ndim >= 1)
               for field in (poses, labels)):
        fail(path, "fields 'pose' and 'label' must be lists")
    if len(poses) != len(labels):
        fail(path, f"field 'pose' has {len(poses)} clips but 'label' has {len(labels)}")
    if not len(poses):
        fail(path, "no clips (field 'pose' is empty)")
    for index, (pose, label) in enumerate(zip(poses, labels)):
        where = f"{path}: clip #{index}"
        if not isinstance(label, (str, int, np.str_, np.integer)) or isinstance(label, bool):
            fail(where, f"field 'label' must be a string or an integer, got {label!r}")
        if not isinstance(pose, np.ndarray) or pose.ndim != 3 or pose.shape[-1] != 2 or 0 in pose.shape:
            fail(where, f"field 'pose' must be an array (T, V, 2), got {getattr(pose, 'shape', type(pose).__name__)}")
    return list(poses), [str(label) for label in labels]


def _pose_key(pose: np.ndarray, label: str) -> str:
    """Equal for exactly equal poses of the same label."""
    array = np.ascontiguousarray(pose, dtype=np.float64)
    return hashlib.sha1(f"{label}|{array.shape}".encode() + array.tobytes()).hexdigest()


def _safe_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", label) or "class"


def convert_ddnet(pairs: list[tuple[str | Path, str | Path]], layout_name: str | None = None,
                  dtype: str = "float32") -> dict:
    """A dataset dict with train<N>/test<N> from DD-Net (train, test) pickle pairs, N = 1, 2, ...

    Raises UserInputError naming the file and clip for malformed input, and when
    a split's test file repeats a pose of its own train file.
    """
    if not pairs:
        raise UserInputError("give at least one --train FILE --test FILE pair")
    files = [(number, side, Path(path)) for number, pair in enumerate(pairs, 1)
             for side, path in zip(("train", "test"), pair)]
    read = {path: read_ddnet_file(path) for _, _, path in files}
    joint_counts: dict[int, str] = {}
    for path, (poses, _) in read.items():
        for index, pose in enumerate(poses):
            joint_counts.setdefault(pose.shape[1], f"{path} (clip #{index})")
    layout = resolve_layout(joint_counts, layout_name)
    class_names = sorted_class_names(label for _, labels in read.values() for label in labels)
    label_of = {name: i for i, name in enumerate(class_names)}

    annotations, split = [], {}
    earlier: dict[str, list[str]] = {}      # pose key -> ids made by earlier splits
    for number in range(1, len(pairs) + 1):
        this_split: dict[str, tuple[str, int]] = {}   # pose key -> (train file, index) of this split
        used: set[str] = set()
        for _, side, path in [f for f in files if f[0] == number]:
            members = split.setdefault(f"{side}{number}", [])
            poses, labels = read[path]
            for index, (pose, label) in enumerate(zip(poses, labels)):
                key = _pose_key(pose, label)
                if side == "test" and key in this_split:
                    train_path, train_index = this_split[key]
                    fail(path, f"clip #{index} equals clip #{train_index} of {train_path}: "
                               f"train{number} and test{number} overlap")
                if side == "train":
                    this_split.setdefault(key, (str(path), index))
                reusable = [i for i in earlier.get(key, []) if i not in used]
                if reusable:
                    frame_dir = reusable[0]
                else:
                    frame_dir = f"{_safe_name(label)}_{side}{number}_{index:04d}"
                    keypoint, score = to_clip_arrays(pose, f"{path}: clip #{index}")
                    annotations.append(make_annotation(frame_dir, label_of[label], keypoint, score, dtype))
                    earlier.setdefault(key, []).append(frame_dir)
                used.add(frame_dir)
                members.append(frame_dir)
    return {"split": split, "annotations": annotations, "class_names": class_names, "layout": layout.name}
