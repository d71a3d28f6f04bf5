"""The `folder` import format: per-clip keypoint files, read by `python -m helpers.convert folder`.

`ROOT/<class>/<clip>.json|.npy|.npz`, class names = sorted folder names,
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

import json
import math
import zipfile
from pathlib import Path

import numpy as np

from helpers.errors import UserInputError, quote
from helpers.data.importers.common import fail, make_annotation, resolve_layout, to_clip_arrays
# the same carve-out rules as the validation split, applied to make a test split
from helpers.data.splits import holdout

CLIP_SUFFIXES = (".json", ".npy", ".npz")
NPZ_RATIO = 256             # a .npz member may unpack to this many times its compressed size ...
NPZ_FLOOR = 16 << 20        # ... or to 16 MiB, whichever is more


def _parse_json(path: Path, text: str):
    try:
        return json.loads(text)
    except RecursionError:
        fail(path, "not valid JSON (nested too deeply)")
    except ValueError as error:  # JSONDecodeError, and integers too long to convert
        fail(path, f"not valid JSON ({str(error)[:200]})")


def _json_joint(joint, where: str) -> tuple[float, float, float]:
    def number(value):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            fail(where, f"expected a number, got {quote(value)}")
        try:
            return float(value)
        except OverflowError:
            fail(where, f"number {quote(value)} is too large")

    if joint is None:
        return 0.0, 0.0, 0.0
    if isinstance(joint, dict):
        if "x" not in joint or "y" not in joint:
            fail(where, f"a joint dict needs 'x' and 'y', got keys {quote(sorted(joint))}")
        return number(joint["x"]), number(joint["y"]), number(joint.get("score", 1.0))
    if isinstance(joint, list) and len(joint) in (2, 3):
        x, y, *rest = (number(v) for v in joint)
        return x, y, (rest[0] if rest else 1.0)
    fail(where, f"a joint must be [x, y], [x, y, score], {{\"x\", \"y\", \"score\"}} or null, got {quote(joint)}")


def read_json_clip(path: str | Path) -> np.ndarray:
    """Keypoints (T, V, 3) (x, y, score) of one JSON clip file (format in the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        fail(path, f"not UTF-8 text ({error.reason} at byte {error.start})")
    frames = _parse_json(path, text)
    if not isinstance(frames, list) or not frames:
        fail(path, "expected a non-empty JSON list of frames")
    rows = []
    for t, frame in enumerate(frames):
        if isinstance(frame, dict):
            if "keypoints" not in frame:
                fail(path, f"frame {t}: a frame dict needs a 'keypoints' list, got keys {quote(sorted(frame))}")
            frame = frame["keypoints"]
        if not isinstance(frame, list) or not frame:
            fail(path, f"frame {t}: expected a non-empty list of joints")
        if rows and len(frame) != len(rows[0]):
            fail(path, f"frame {t} has {len(frame)} joints but frame 0 has {len(rows[0])}")
        rows.append([_json_joint(joint, f"{path}: frame {t}, joint {v}") for v, joint in enumerate(frame)])
    return np.array(rows, dtype=np.float64)


def _check_npy_header(file, available: int, where: str) -> None:
    """Refuse a .npy stream whose header declares more data than `available` bytes can hold (numpy
    allocates the declared shape before reading), or objects; leaves `file` where it was."""
    start = file.tell()
    version = np.lib.format.read_magic(file)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(file)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(file)
    else:
        fail(where, f"unsupported .npy format version {version}")
    if dtype.hasobject:
        fail(where, "not a readable NumPy file (it holds Python objects, not numbers)")
    declared = math.prod(shape) * dtype.itemsize
    if declared > available - (file.tell() - start):
        fail(where, f"its header declares an array {shape} of {dtype} ({declared:,} bytes) but the file holds "
                    f"{available:,} bytes")
    file.seek(start)


def _npz_member(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    """Refuse a .npz member that unpacks to far more than it stores, or declares more than it holds."""
    info = archive.getinfo(f"{name}.npy")
    if info.file_size > max(NPZ_RATIO * info.compress_size, NPZ_FLOOR):
        fail(path, f"member {quote(name)} unpacks to {info.file_size:,} bytes from {info.compress_size:,} "
                   f"(more than {NPZ_RATIO} times, and more than {NPZ_FLOOR >> 20} MiB)")
    with archive.open(info) as member:
        _check_npy_header(member, info.file_size, f"{path}: member {quote(name)}")


def read_numpy_clip(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The keypoint array of a .npy / .npz file (never unpickles) and its `keypoint_score`, if any."""
    path = Path(path)
    score = None
    try:
        if path.suffix.lower() == ".npy":
            with open(path, "rb") as file:
                _check_npy_header(file, path.stat().st_size, str(path))
                array = np.load(file, allow_pickle=False)
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
                    fail(path, f"holds arrays {quote(names)}; expected one array or one named 'keypoint'")
                _npz_member(archive.zip, key, path)
                array = archive[key]
                if "keypoint_score" in names and key != "keypoint_score":
                    _npz_member(archive.zip, "keypoint_score", path)
                    score = archive["keypoint_score"]
    except UserInputError:
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as error:
        fail(path, f"not a readable NumPy file ({str(error)[:200]})")
    return array, score


def read_clip_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """keypoint (M, T, V, 2), score (M, T, V) of one clip file (.json, .npy or .npz)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return to_clip_arrays(read_json_clip(path), str(path))
    array, score = read_numpy_clip(path)
    return to_clip_arrays(array, str(path), score)


def find_clip_files(root: str | Path, suffixes: tuple[str, ...] = CLIP_SUFFIXES,
                    what: str = "clip") -> tuple[list[str], list[tuple[str, Path]], list[Path]]:
    """Class names (sorted folder names), (class, file) pairs, and ignored paths under `root`.

    A file belongs when its suffix (case-insensitive) is one of `suffixes`; `what` names
    the files in messages ('clip', 'video').
    """
    root = Path(root)
    if not root.is_dir():
        fail(root, "folder not found")
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    class_dirs = [p for p in entries if p.is_dir()]
    ignored = [p for p in entries if not p.is_dir()]
    files = []
    for class_dir in class_dirs:
        clips = sorted(p for p in class_dir.iterdir() if not p.name.startswith("."))
        found = [p for p in clips if p.is_file() and p.suffix.lower() in suffixes]
        if not found:
            fail(class_dir, f"class folder has no {what} files ({', '.join(suffixes)})")
        files += [(class_dir.name, p) for p in found]
        ignored += [p for p in clips if p not in found]
    if not files:
        fail(root, f"no {what} files found; expected ROOT/<class>/<{what}>{'|'.join(suffixes)}")
    return [d.name for d in class_dirs], files, ignored


def clip_ids(files: list[tuple[str, Path]]) -> list[str]:
    """`<class>/<file stem>` per (class, file) pair; two files of one class with the same stem are refused."""
    ids, first_file = [], {}
    for class_name, path in files:
        clip_id = f"{class_name}/{path.stem}"
        if clip_id in first_file:
            fail(path, f"clip id {clip_id!r} is also given by {first_file[clip_id].name} (same stem)")
        first_file[clip_id] = path
        ids.append(clip_id)
    return ids


def generate_split(ids: list[str], labels: list[int], test_fraction: float = 0.3, seed: int = 0) -> dict:
    """{'train1': [...], 'test1': [...]}: whole gXX groups to test, the rest stratified by class.

    Deterministic from `seed`; a group (e.g. `g08` in `v_Run_g08_c01`) is never on both sides.
    """
    if not 0.0 < test_fraction < 1.0:
        raise UserInputError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    test = holdout(ids, labels, test_fraction, seed)
    return {"train1": [i for i in ids if i not in test], "test1": [i for i in ids if i in test]}


def read_split_file(path: str | Path, ids: list[str], suffixes: tuple[str, ...] = CLIP_SUFFIXES) -> dict:
    """Splits from a JSON `{"train1": [ids]}` or text (`<split> <clip id>` lines, `#` comments) file.

    An entry is a clip id, or a clip file name (one of `suffixes`) / stem that matches exactly one clip.
    """
    path = Path(path)
    if not path.is_file():
        fail(path, "split file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        fail(path, f"not UTF-8 text ({error.reason} at byte {error.start})")
    if path.suffix == ".json":
        raw = _parse_json(path, text)
        if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
            fail(path, 'expected a JSON object {"train1": [clip ids], "test1": [clip ids]}')
    else:
        raw = {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                fail(path, f"line {number}: expected '<split> <clip id>', got {quote(line)}")
            raw.setdefault(parts[0], []).append(parts[1].strip())
    if not raw:
        fail(path, "no splits")
    by_stem: dict[str, list[str]] = {}
    for clip_id in ids:
        by_stem.setdefault(clip_id.rsplit("/", 1)[-1], []).append(clip_id)
    known = set(ids)

    def resolve(entry, split_name: str) -> str:
        if not isinstance(entry, str):
            fail(path, f"split {quote(split_name)}: entries must be clip id strings, got {quote(entry)}")
        name = entry[: -len(Path(entry).suffix)] if Path(entry).suffix.lower() in suffixes else entry
        if name in known:
            return name
        matches = by_stem.get(name, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            fail(path, f"split {quote(split_name)}: {quote(entry)} matches several clips "
                       f"({', '.join(matches[:3])}); use the full id <class>/<stem>")
        fail(path, f"split {quote(split_name)}: unknown clip {quote(entry)} (ids look like {quote(ids[0])})")

    split = {}
    for name, entries in raw.items():
        members = [resolve(entry, name) for entry in entries]
        if len(set(members)) != len(members):
            fail(path, f"split {quote(name)} lists a clip twice")
        split[str(name)] = members
    for name in split:
        if name.startswith("train") and f"test{name[5:]}" in split:
            overlap = set(split[name]) & set(split[f"test{name[5:]}"])
            if overlap:
                fail(path, f"{len(overlap)} clips are in both {name} and test{name[5:]}, e.g. {sorted(overlap)[0]!r}")
    return split


def convert_folder(root: str | Path, layout_name: str | None = None, split_file: str | Path | None = None,
                   test_fraction: float = 0.3, seed: int = 0, dtype: str = "float32",
                   img_shape: tuple[int, int] | None = None) -> dict:
    """A dataset dict from `root/<class>/<clip>.json|.npy|.npz` (formats in the module docstring)."""
    class_names, files, _ = find_clip_files(root)
    ids = clip_ids(files)
    arrays, joint_counts = [], {}
    for clip_id, (class_name, path) in zip(ids, files):
        keypoint, score = read_clip_file(path)
        joint_counts.setdefault(keypoint.shape[2], str(path))
        arrays.append((clip_id, class_names.index(class_name), keypoint, score, path))
    layout = resolve_layout(joint_counts, layout_name)
    annotations = [make_annotation(clip_id, label, keypoint, score, dtype, img_shape)
                   for clip_id, label, keypoint, score, _ in arrays]
    if split_file is not None:
        split = read_split_file(split_file, ids)
    else:
        split = generate_split(ids, [a[1] for a in arrays], test_fraction, seed)
    return {"split": split, "annotations": annotations, "class_names": class_names, "layout": layout.name}
