"""Command: import keypoints from other formats into the project's one dataset format.

    python -m helpers.convert ddnet --train GT_train_1.pkl --test GT_test_1.pkl [--train ... --test ...]
                                    --out data/jhmdb.pkl [--layout NAME]
    python -m helpers.convert folder ROOT --out data/mine.pkl [--layout NAME]
                                    [--split-file FILE | --test-fraction 0.3 --seed 0]

Every conversion writes a PYSKL pickle (`split`, `annotations` with `frame_dir`,
`label`, `total_frames`, `keypoint` (M, T, V, 2), `keypoint_score` (M, T, V),
plus top-level `class_names` and `layout`), validated before it is written,
written atomically, and validated again by loading it back.

Formats
- ddnet: DD-Net / JHMDB pickles `{'pose': [array (T, V, 2)], 'label': [str]}`, one
  train/test pair per split, numbered 1, 2, ... in the order given.  Pickles are
  read with the restricted unpickler.  There are no scores: they are set to 1.
  Class names are sorted alphabetically (numerically if all labels are integers).
  Clip ids are `<label>_<side><N>_<index in that file>` (e.g. `clap_train1_0007`);
  a pose array of a later split that equals one of an earlier split (same label,
  same values) reuses that clip, so one video is stored once.
- folder: `ROOT/<class>/<clip>.json|.npy|.npz`, class names = sorted folder names,
  clip id = `<class>/<clip file stem>`.  JSON: a list of frames, each a list of
  joints (`[x, y]`, `[x, y, score]`, `{"x": .., "y": .., "score": ..}` or `null`
  for a missing joint) or a dict `{"keypoints": [joints]}`.  NumPy: an array
  (T, V, 2|3) or (M, T, V, 2|3) (a third channel is the score); a .npz holds one
  array or one named `keypoint`/`keypoints` (and optionally `keypoint_score`).
  NaN coordinates mark missing joints (stored as 0 with score 0).
  Splits: `--split-file` (JSON `{"train1": [ids], "test1": [ids]}`, or text lines
  `<split> <clip id>`), else train1/test1 generated from `--seed`: whole groups
  (`_gXX_cYY` at the end of the clip name, across classes as UCF101) go to test,
  clips without a group are split stratified by class.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

from helpers.cli import run_command
from helpers.dataset import SkeletonDataset, load_dataset, save_dataset, validate_dataset
from helpers.errors import UserInputError
from helpers.layouts import Layout, get_layout, layout_for_joint_count
from helpers.safe_pickle import safe_load
# the same carve-out rules as the validation split, applied to make a test split
from helpers.splits import holdout

CLIP_SUFFIXES = (".json", ".npy", ".npz")


def _fail(where, message: str):
    raise UserInputError(f"{where}: {message}")


# ----------------------------------------------------------------------------- arrays and layouts


def to_clip_arrays(array: np.ndarray, where: str, score: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, V, 2|3) or (M, T, V, 2|3) -> keypoint (M, T, V, 2) float64, score (M, T, V) float64.

    A third channel is the score; without one (and no `score`) scores are 1.
    NaN coordinates or scores mark missing joints: coordinates 0, score 0.
    """
    if not isinstance(array, np.ndarray) or not (np.issubdtype(array.dtype, np.integer)
                                                 or np.issubdtype(array.dtype, np.floating)):
        _fail(where, f"expected a numeric array, got {getattr(array, 'dtype', type(array).__name__)}")
    if array.ndim == 3:
        array = array[None]
        score = None if score is None else np.asarray(score)[None]
    if array.ndim != 4 or array.shape[-1] not in (2, 3) or 0 in array.shape:
        _fail(where, f"expected keypoints shaped (T, V, 2|3) or (M, T, V, 2|3), got {array.shape}")
    array = array.astype(np.float64)
    keypoint = array[..., :2]
    if score is None:
        score = array[..., 2] if array.shape[-1] == 3 else np.ones(array.shape[:3])
    score = np.asarray(score, dtype=np.float64)
    if score.shape != keypoint.shape[:3]:
        _fail(where, f"scores shaped {score.shape} do not match keypoints (M, T, V) = {keypoint.shape[:3]}")
    if np.isinf(keypoint).any() or np.isinf(score).any():
        _fail(where, "keypoints or scores contain inf")
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
        _fail(where, f"has {count} joints but layout {layout.name} has {layout.num_joints}")
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


# ----------------------------------------------------------------------------- ddnet


def read_ddnet_file(path: str | Path) -> tuple[list[np.ndarray], list[str]]:
    """Poses [(T, V, 2)] and labels [str] of one DD-Net pickle, read with the restricted unpickler."""
    data = safe_load(path)
    if not isinstance(data, dict) or "pose" not in data or "label" not in data:
        _fail(path, "expected a DD-Net pickle: a dict with 'pose' (list of (T, V, 2) arrays) and 'label'")
    poses, labels = data["pose"], data["label"]
    if not isinstance(poses, (list, tuple, np.ndarray)) or not isinstance(labels, (list, tuple, np.ndarray)):
        _fail(path, "fields 'pose' and 'label' must be lists")
    if len(poses) != len(labels):
        _fail(path, f"field 'pose' has {len(poses)} clips but 'label' has {len(labels)}")
    if not len(poses):
        _fail(path, "no clips (field 'pose' is empty)")
    for index, (pose, label) in enumerate(zip(poses, labels)):
        where = f"{path}: clip #{index}"
        if not isinstance(label, (str, int, np.str_, np.integer)) or isinstance(label, bool):
            _fail(where, f"field 'label' must be a string or an integer, got {label!r}")
        if not isinstance(pose, np.ndarray) or pose.ndim != 3 or pose.shape[-1] != 2 or 0 in pose.shape:
            _fail(where, f"field 'pose' must be an array (T, V, 2), got {getattr(pose, 'shape', type(pose).__name__)}")
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
                    _fail(path, f"clip #{index} equals clip #{train_index} of {train_path}: "
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


# ----------------------------------------------------------------------------- folder


def _json_joint(joint, where: str) -> tuple[float, float, float]:
    def number(value):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            _fail(where, f"expected a number, got {value!r}")
        return float(value)

    if joint is None:
        return 0.0, 0.0, 0.0
    if isinstance(joint, dict):
        if "x" not in joint or "y" not in joint:
            _fail(where, f"a joint dict needs 'x' and 'y', got keys {sorted(joint)}")
        return number(joint["x"]), number(joint["y"]), number(joint.get("score", 1.0))
    if isinstance(joint, list) and len(joint) in (2, 3):
        x, y, *rest = (number(v) for v in joint)
        return x, y, (rest[0] if rest else 1.0)
    _fail(where, f"a joint must be [x, y], [x, y, score], {{\"x\", \"y\", \"score\"}} or null, got {joint!r}")


def read_json_clip(path: str | Path) -> np.ndarray:
    """Keypoints (T, V, 3) (x, y, score) of one JSON clip file (format in the module docstring)."""
    path = Path(path)
    try:
        frames = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        _fail(path, f"not valid JSON ({error})")
    if not isinstance(frames, list) or not frames:
        _fail(path, "expected a non-empty JSON list of frames")
    rows = []
    for t, frame in enumerate(frames):
        if isinstance(frame, dict):
            if "keypoints" not in frame:
                _fail(path, f"frame {t}: a frame dict needs a 'keypoints' list, got keys {sorted(frame)}")
            frame = frame["keypoints"]
        if not isinstance(frame, list) or not frame:
            _fail(path, f"frame {t}: expected a non-empty list of joints")
        if rows and len(frame) != len(rows[0]):
            _fail(path, f"frame {t} has {len(frame)} joints but frame 0 has {len(rows[0])}")
        rows.append([_json_joint(joint, f"{path}: frame {t}, joint {v}") for v, joint in enumerate(frame)])
    return np.array(rows, dtype=np.float64)


def read_numpy_clip(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The keypoint array of a .npy / .npz file (never unpickles) and its `keypoint_score`, if any."""
    path = Path(path)
    score = None
    try:
        if path.suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as archive:
                names = list(archive.files)
                named = [n for n in ("keypoint", "keypoints") if n in names]
                candidates = [n for n in names if n != "keypoint_score"]
                if named:
                    key = named[0]
                elif len(candidates) == 1:
                    key = candidates[0]
                else:
                    _fail(path, f"holds arrays {names}; expected one array or one named 'keypoint'")
                array = archive[key]
                if "keypoint_score" in names and key != "keypoint_score":
                    score = archive["keypoint_score"]
    except UserInputError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        _fail(path, f"not a readable NumPy file ({error})")
    return array, score


def read_clip_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """keypoint (M, T, V, 2), score (M, T, V) of one clip file (.json, .npy or .npz)."""
    path = Path(path)
    if path.suffix == ".json":
        return to_clip_arrays(read_json_clip(path), str(path))
    array, score = read_numpy_clip(path)
    return to_clip_arrays(array, str(path), score)


def find_clip_files(root: str | Path) -> tuple[list[str], list[tuple[str, Path]], list[Path]]:
    """Class names (sorted folder names), (class, file) pairs, and ignored paths under `root`."""
    root = Path(root)
    if not root.is_dir():
        _fail(root, "folder not found")
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    class_dirs = [p for p in entries if p.is_dir()]
    ignored = [p for p in entries if not p.is_dir()]
    files = []
    for class_dir in class_dirs:
        clips = sorted(p for p in class_dir.iterdir() if not p.name.startswith("."))
        found = [p for p in clips if p.is_file() and p.suffix in CLIP_SUFFIXES]
        if not found:
            _fail(class_dir, f"class folder has no clip files ({', '.join(CLIP_SUFFIXES)})")
        files += [(class_dir.name, p) for p in found]
        ignored += [p for p in clips if p not in found]
    if not files:
        _fail(root, f"no clip files found; expected ROOT/<class>/<clip>{'|'.join(CLIP_SUFFIXES)}")
    return [d.name for d in class_dirs], files, ignored


def generate_split(ids: list[str], labels: list[int], test_fraction: float = 0.3, seed: int = 0) -> dict:
    """{'train1': [...], 'test1': [...]}: whole gXX groups to test, the rest stratified by class.

    Deterministic from `seed`; a group (e.g. `g08` in `v_Run_g08_c01`) is never on both sides.
    """
    if not 0.0 < test_fraction < 1.0:
        raise UserInputError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    test = holdout(ids, labels, test_fraction, seed)
    return {"train1": [i for i in ids if i not in test], "test1": [i for i in ids if i in test]}


def read_split_file(path: str | Path, ids: list[str]) -> dict:
    """Splits from a JSON `{"train1": [ids]}` or text (`<split> <clip id>` lines, `#` comments) file.

    An entry is a clip id, or a clip file name / stem that matches exactly one clip.
    """
    path = Path(path)
    if not path.is_file():
        _fail(path, "split file not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            _fail(path, f"not valid JSON ({error})")
        if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
            _fail(path, 'expected a JSON object {"train1": [clip ids], "test1": [clip ids]}')
    else:
        raw = {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                _fail(path, f"line {number}: expected '<split> <clip id>', got {line!r}")
            raw.setdefault(parts[0], []).append(parts[1].strip())
    if not raw:
        _fail(path, "no splits")
    by_stem: dict[str, list[str]] = {}
    for clip_id in ids:
        by_stem.setdefault(clip_id.rsplit("/", 1)[-1], []).append(clip_id)
    known = set(ids)

    def resolve(entry, split_name: str) -> str:
        if not isinstance(entry, str):
            _fail(path, f"split {split_name!r}: entries must be clip id strings, got {entry!r}")
        name = entry[: -len(Path(entry).suffix)] if Path(entry).suffix in CLIP_SUFFIXES else entry
        if name in known:
            return name
        matches = by_stem.get(name, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            _fail(path, f"split {split_name!r}: {entry!r} matches several clips ({', '.join(matches[:3])}); "
                        "use the full id <class>/<stem>")
        _fail(path, f"split {split_name!r}: unknown clip {entry!r} (ids look like {ids[0]!r})")

    split = {}
    for name, entries in raw.items():
        members = [resolve(entry, name) for entry in entries]
        if len(set(members)) != len(members):
            _fail(path, f"split {name!r} lists a clip twice")
        split[str(name)] = members
    for name in split:
        if name.startswith("train") and f"test{name[5:]}" in split:
            overlap = set(split[name]) & set(split[f"test{name[5:]}"])
            if overlap:
                _fail(path, f"{len(overlap)} clips are in both {name} and test{name[5:]}, e.g. {sorted(overlap)[0]!r}")
    return split


def convert_folder(root: str | Path, layout_name: str | None = None, split_file: str | Path | None = None,
                   test_fraction: float = 0.3, seed: int = 0, dtype: str = "float32",
                   img_shape: tuple[int, int] | None = None) -> dict:
    """A dataset dict from `root/<class>/<clip>.json|.npy|.npz` (formats in the module docstring)."""
    class_names, files, _ = find_clip_files(root)
    arrays, joint_counts = [], {}
    for class_name, path in files:
        keypoint, score = read_clip_file(path)
        joint_counts.setdefault(keypoint.shape[2], str(path))
        arrays.append((f"{class_name}/{path.stem}", class_names.index(class_name), keypoint, score, path))
    ids = [a[0] for a in arrays]
    first_file: dict[str, Path] = {}
    for clip_id, *_, path in arrays:
        if clip_id in first_file:
            _fail(path, f"clip id {clip_id!r} is also given by {first_file[clip_id].name} (same stem)")
        first_file[clip_id] = path
    layout = resolve_layout(joint_counts, layout_name)
    annotations = [make_annotation(clip_id, label, keypoint, score, dtype, img_shape)
                   for clip_id, label, keypoint, score, _ in arrays]
    if split_file is not None:
        split = read_split_file(split_file, ids)
    else:
        split = generate_split(ids, [a[1] for a in arrays], test_fraction, seed)
    return {"split": split, "annotations": annotations, "class_names": class_names, "layout": layout.name}


# ----------------------------------------------------------------------------- output


def write_dataset(data: dict, out: str | Path, overwrite: bool = False) -> SkeletonDataset:
    """Validate `data`, write it atomically to `out`, and return it as loaded back from disk."""
    out = Path(out)
    if out.exists() and not overwrite:
        _fail(out, "already exists; pass --overwrite to replace it")
    validate_dataset(data, out)
    save_dataset(data, out)
    return load_dataset(out)


def split_warnings(dataset: SkeletonDataset) -> list[str]:
    """Classes missing from a split (e.g. a generated test split that took no clip of a class)."""
    warnings = []
    for name, members in sorted(dataset.split.items()):
        present = {dataset.clip(i)["label"] for i in members}
        absent = [dataset.class_names[k] for k in range(dataset.num_classes) if k not in present]
        if absent:
            warnings.append(f"split {name} has no clip of class(es) {', '.join(absent[:5])}"
                            f"{' ...' if len(absent) > 5 else ''}")
    return warnings


def summary(dataset: SkeletonDataset) -> str:
    splits = ", ".join(f"{name} {len(members)}" for name, members in sorted(dataset.split.items()))
    return (f"wrote {Path(dataset.source).resolve()}: {len(dataset.annotations)} clips, {dataset.num_classes} "
            f"classes, layout {dataset.layout.name} ({dataset.layout.num_joints} joints); splits: {splits}; "
            f"ids like {dataset.annotations[0]['frame_dir']!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.convert",
        description="Convert keypoints from other formats into the project's dataset pickle "
                    "(PYSKL format with class_names and layout), written atomically and validated.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  python -m helpers.convert ddnet --train GT_train_1.pkl --test GT_test_1.pkl --out data/jhmdb.pkl\n"
               "  python -m helpers.convert folder my_clips/ --out data/mine.pkl --test-fraction 0.3 --seed 0\n"
               "run 'python -m helpers.convert FORMAT --help' for a format's details")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", required=True, help="dataset pickle to write")
    common.add_argument("--layout", help="skeleton layout name (default: inferred from the joint count: "
                                         "17 coco17, 15 jhmdb15, 18 openpose18)")
    common.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                        help="storage type of keypoints and scores (default float32)")
    common.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    formats = parser.add_subparsers(dest="format", required=True, metavar="FORMAT")

    ddnet = formats.add_parser(
        "ddnet", parents=[common], help="DD-Net / JHMDB pickles {'pose': [(T, V, 2)], 'label': [str]}",
        description="DD-Net / JHMDB pickles {'pose': [array (T, V, 2)], 'label': [str]}, one --train/--test "
                    "pair per split; pairs become train1/test1, train2/test2, ... in the order given. Scores "
                    "are set to 1; class names are sorted; clip ids are <label>_<side><N>_<index>, and a pose "
                    "repeated in a later split reuses its earlier clip.")
    ddnet.add_argument("--train", action="append", required=True, metavar="FILE", help="training pickle (repeat)")
    ddnet.add_argument("--test", action="append", required=True, metavar="FILE", help="test pickle (repeat)")

    folder = formats.add_parser(
        "folder", parents=[common], help="per-clip files ROOT/<class>/<clip>.json|.npy|.npz",
        description="Per-clip keypoint files ROOT/<class>/<clip>.json|.npy|.npz; class names are the sorted "
                    "folder names, clip ids are <class>/<stem>. JSON: a list of frames, each a list of joints "
                    "[x, y], [x, y, score], {\"x\", \"y\", \"score\"} or null, or {\"keypoints\": [...]}. NumPy: "
                    "(T, V, 2|3) or (M, T, V, 2|3); a .npz holds one array or one named 'keypoint(s)'. "
                    "Without --split-file, train1/test1 are drawn with --seed: whole gXX groups (from names "
                    "ending _gXX_cYY) or, without groups, a class-stratified sample.")
    folder.add_argument("root", help="folder with one sub-folder per class")
    folder.add_argument("--split-file", help="JSON {\"train1\": [ids], \"test1\": [ids]} or text lines "
                                             "'<split> <clip id>' (ids may be given as unique file stems)")
    folder.add_argument("--test-fraction", type=float, help="share of clips for test1 (default 0.3)")
    folder.add_argument("--seed", type=int, help="seed of the generated split (default 0)")
    folder.add_argument("--img-shape", type=int, nargs=2, metavar=("H", "W"), help="image size, stored per clip")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.format == "ddnet":
        if len(args.train) != len(args.test):
            raise UserInputError(f"got {len(args.train)} --train and {len(args.test)} --test files; give them in pairs")
        data = convert_ddnet(list(zip(args.train, args.test)), args.layout, args.dtype)
        for number, (train_file, test_file) in enumerate(zip(args.train, args.test), 1):
            print(f"train{number} <- {train_file}, test{number} <- {test_file}")
    else:
        if args.split_file and (args.test_fraction is not None or args.seed is not None):
            raise UserInputError("--split-file and --test-fraction/--seed exclude each other")
        fraction = 0.3 if args.test_fraction is None else args.test_fraction
        data = convert_folder(args.root, args.layout, args.split_file, fraction, args.seed or 0, args.dtype,
                              tuple(args.img_shape) if args.img_shape else None)
        ignored = find_clip_files(args.root)[2]
        if ignored:
            print(f"ignored {len(ignored)} entries that are not ROOT/<class>/<clip>{'|'.join(CLIP_SUFFIXES)}, "
                  f"e.g. {ignored[0]}", file=sys.stderr)
    dataset = write_dataset(data, args.out, args.overwrite)
    print(summary(dataset))
    for warning in split_warnings(dataset):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
