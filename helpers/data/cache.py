"""A memory-mapped cache of dataset pickles: unpickle and validate once, then reopen in milliseconds.

The first `open_cached_dataset(path)` reads the pickle with the restricted
unpickler, validates it (`load_dataset`), and writes a folder

    <cache_dir()>/<file stem>-<hash of the absolute path>/
        keypoint.npy        (R, V, 2)  every clip's (M, T, V, 2) rows, concatenated
        keypoint_score.npy  (R, V)     likewise for (M, T, V) scores
        clips.npy           (N, 4)     int64 per clip: label, persons M, frames T, first row
        split.npy           (S,)       int64 clip numbers of every split, concatenated
        index.json          frame_dir per clip, and one column per other field (total_frames, img_shape, ...)
        meta.json           split names and sizes, class_names, layout, dtypes
        manifest.json       written last: format version, source fingerprint, sizes, checksums

where R is the sum of M*T over the clips.  The arrays keep the source dtype
(float16 in the official files).  Later opens memory-map the arrays, so nothing
is read until a clip is used, and a class subset only ever touches its clips.
The numbers live in small .npy files because parsing them as JSON was most of a
warm open; the open returns `CachedClips`, a read-only sequence that makes each
clip's annotation dict (and its array views) on first access, so opening the
13,320 UCF101 clips makes no clip dict and no array view.

Trust and freshness.  The cache holds data that was validated when it was built;
it is rebuilt when the source's size, mtime_ns or first/last MiB change.  A
folder is used only if its manifest parses, has this format version, lists every
file at its recorded size, and the SHA-256 of the small files (index.json,
meta.json, clips.npy, split.npy) match; anything else (an interrupted build, a
truncated or edited file) is reported and rebuilt.  The large arrays are checked
by size and .npy header only, not hashed, so that a warm open stays fast: an
in-place edit of array bytes that keeps the size goes unnoticed (delete the
folder, or pass `rebuild=True`).

A build writes into a temporary folder beside the final one and renames it into
place, so readers never see a half-written cache; two processes building at once
each write their own folder and the last rename wins (the contents are equal).
Each build also removes temporary folders of builds whose process died, and
cache folders whose source file no longer exists.

    python -m helpers.data.cache data/ucf101_2d.pkl [--rebuild]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import mmap
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from helpers.cli import run_command
from helpers.data.dataset import SkeletonDataset, load_dataset, select_classes
from helpers.data.layouts import get_layout
from helpers.data.safe_pickle import gc_paused
from helpers.errors import UserInputError
from helpers.io import pid_alive
from helpers.paths import cache_dir

FORMAT_VERSION = 4
_EDGE_BYTES = 1 << 20  # the source's first and last MiB enter its fingerprint
_ARRAYS = ("keypoint.npy", "keypoint_score.npy")
_SMALL = ("index.json", "meta.json", "clips.npy", "split.npy")  # checksummed in the manifest
_COLUMNS = ("label", "persons", "frames", "offset")  # the columns of clips.npy
_FIXED_KEYS = ("frame_dir", "label", "keypoint", "keypoint_score")
_MISSING = object()  # a clip without a field that other clips have


class _Unusable(Exception):
    """The cache folder cannot be used; the message says why."""


# ----------------------------------------------------------------------------
# Where, and is it fresh
# ----------------------------------------------------------------------------

def cache_folder(path: str | os.PathLike) -> Path:
    """The cache folder of dataset file `path`: `<cache_dir()>/<stem>-<16 hex of its absolute path>`."""
    path = Path(path).resolve()
    digest = hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:16]
    return cache_dir() / f"{path.stem}-{digest}"


def source_fingerprint(path: str | os.PathLike) -> dict:
    """Size, mtime_ns and a SHA-256 of the first and last MiB of `path` (cheap even for 1 GB)."""
    path = Path(path)
    stat = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        digest.update(file.read(_EDGE_BYTES))
        if stat.st_size > _EDGE_BYTES:
            file.seek(max(_EDGE_BYTES, stat.st_size - _EDGE_BYTES))
            digest.update(file.read(_EDGE_BYTES))
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "edge_sha256": digest.hexdigest()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _Unusable(f"{path.name} is unreadable ({type(error).__name__}: {error})") from None


def _check_manifest(folder: Path, fingerprint: dict) -> dict:
    """The manifest of a complete cache of the source with `fingerprint`; raises _Unusable otherwise."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise _Unusable("manifest.json is missing (an interrupted build?)")
    manifest = _read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        version = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise _Unusable(f"format version {version!r}, this code reads version {FORMAT_VERSION}")
    if manifest.get("fingerprint") != fingerprint:
        raise _Unusable("the source file changed since the cache was built (size, mtime or content)")
    try:
        files, checksums = dict(manifest["files"]), dict(manifest["sha256"])
    except (KeyError, TypeError, ValueError):
        raise _Unusable("manifest.json lacks its file list") from None
    for name in (*_ARRAYS, *_SMALL):
        file = folder / name
        if not file.is_file():
            raise _Unusable(f"{name} is missing")
        if file.stat().st_size != files.get(name):
            raise _Unusable(f"{name} has {file.stat().st_size} bytes, the manifest says {files.get(name)}")
    for name in _SMALL:
        if _sha256(folder / name) != checksums.get(name):
            raise _Unusable(f"{name} does not match its checksum")
    return manifest


def _load_small_array(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise _Unusable(f"{path.name} is unreadable ({error})") from None


def _open_folder(folder: Path, fingerprint: dict) -> tuple:
    """(meta, index, clips (N, 4), split rows (S,), keypoint (R, V, 2), score (R, V)) of a verified
    cache folder; keypoint and score memory-mapped."""
    if not folder.is_dir():
        raise _Unusable("no cache yet")
    manifest = _check_manifest(folder, fingerprint)
    meta, index = _read_json(folder / "meta.json"), _read_json(folder / "index.json")
    clips, split_rows = _load_small_array(folder / "clips.npy"), _load_small_array(folder / "split.npy")
    try:
        keypoint = np.load(folder / "keypoint.npy", mmap_mode="r")
        score = np.load(folder / "keypoint_score.npy", mmap_mode="r")
    except (OSError, ValueError) as error:
        raise _Unusable(f"an array file is unreadable ({error})") from None
    try:
        _check_contents(manifest, meta, index, clips, split_rows, keypoint, score)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _Unusable(f"a field is missing or malformed ({type(error).__name__}: {error})") from None
    return meta, index, clips, split_rows, keypoint, score


def _check_contents(manifest: dict, meta: dict, index: dict, clips: np.ndarray, split_rows: np.ndarray,
                    keypoint: np.ndarray, score: np.ndarray) -> None:
    """Raise _Unusable unless the arrays' shapes and dtypes agree with meta, index and manifest."""
    rows, joints, count = manifest["num_rows"], meta["num_joints"], manifest["num_clips"]
    if keypoint.shape != (rows, joints, 2) or str(keypoint.dtype) != meta["keypoint_dtype"]:
        raise _Unusable(f"keypoint.npy holds {keypoint.dtype} {keypoint.shape}, expected "
                        f"{meta['keypoint_dtype']} {(rows, joints, 2)}")
    if score.shape != (rows, joints) or str(score.dtype) != meta["score_dtype"]:
        raise _Unusable(f"keypoint_score.npy holds {score.dtype} {score.shape}, expected "
                        f"{meta['score_dtype']} {(rows, joints)}")
    if clips.dtype != np.int64 or clips.shape != (count, len(_COLUMNS)):
        raise _Unusable(f"clips.npy holds {clips.dtype} {clips.shape}, expected int64 {(count, len(_COLUMNS))}")
    sizes = clips[:, 1] * clips[:, 2]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if (clips[:, :3] < 0).any() or not np.array_equal(starts, clips[:, 3]) or sizes.sum() != rows:
        raise _Unusable("clips.npy does not match the arrays")
    lengths = [len(index["frame_dir"]),
               *(column["count"] if "constant" in column else len(column["values"])
                 for column in index["extra"].values())]
    if any(length != count for length in lengths):
        raise _Unusable("index.json: a column has the wrong length")
    for column in index["extra"].values():
        if "table" in column and not all(row is None or type(row) is int and 0 <= row < len(column["table"])
                                         for row in column["values"]):
            raise _Unusable("index.json: a column points outside its table")
    if split_rows.dtype != np.int64 or split_rows.shape != (sum(meta["split"].values()),):
        raise _Unusable("split.npy does not match meta.json")
    if len(split_rows) and (split_rows.min() < 0 or split_rows.max() >= count):
        raise _Unusable("split.npy names a clip that is not in the index")


# ----------------------------------------------------------------------------
# Other per-clip fields (total_frames, img_shape, ...): one JSON column each
# ----------------------------------------------------------------------------

def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, np.generic))


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def _encode(value, where: str):
    """Any other value as JSON, with tuples, dicts and small arrays tagged so that they come back as they were."""
    if _is_scalar(value):
        return _scalar(value)
    if isinstance(value, (list, tuple)):
        items = [_encode(item, where) for item in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"__dict__": {key: _encode(item, where) for key, item in value.items()}}
    if isinstance(value, np.ndarray) and value.size <= 4096:
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    raise UserInputError(f"{where}: a {type(value).__name__} cannot be stored in the dataset cache; "
                         "set data.cache: false to read this file without the cache")


def _decode(value):
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if "__tuple__" in value:
            return tuple(_decode(item) for item in value["__tuple__"])
        if "__ndarray__" in value:
            return np.array(value["__ndarray__"], dtype=value["dtype"])
        return {key: _decode(item) for key, item in value["__dict__"].items()}
    return value


def _encode_column(values: list, where: str) -> dict:
    """One field over all clips (_MISSING where a clip lacks it) as {'kind', 'values' or 'constant', 'missing'}.

    The common kinds, scalars and tuples of scalars (img_shape), need no per-value
    decoding when opened, and a field equal in every clip is stored once.  Other
    values are encoded once per distinct object into a 'table' that 'values' index,
    so one object shared by every clip of the pickle is written once, not once per clip.
    """
    present = [value for value in values if value is not _MISSING]
    missing = [row for row, value in enumerate(values) if value is _MISSING]
    if all(_is_scalar(value) for value in present):
        kind, encode = "scalar", _scalar
    elif all(isinstance(value, tuple) and all(_is_scalar(item) for item in value) for value in present):
        kind, encode = "tuple", lambda value: [_scalar(item) for item in value]
    else:
        table, slot = [], {}  # id(value) -> its row of the table; `values` keeps the objects alive
        for value in present:
            if id(value) not in slot:
                slot[id(value)] = len(table)
                table.append(_encode(value, where))
        rows = [None if value is _MISSING else slot[id(value)] for value in values]
        return {"kind": "encoded", "table": table, "values": rows, "missing": missing}
    encoded = [None if value is _MISSING else encode(value) for value in values]
    if not missing and all(value == encoded[0] for value in encoded):
        return {"kind": kind, "constant": encoded[0], "missing": [], "count": len(encoded)}
    return {"kind": kind, "values": encoded, "missing": missing}


def _column_reader(column: dict):
    """A function row -> the value of an `_encode_column` column in that clip (_MISSING where it lacks the field)."""
    decode = {"scalar": None, "tuple": tuple, "encoded": _decode}[column["kind"]]
    missing = frozenset(column["missing"])
    if "constant" in column:
        value = decode(column["constant"]) if decode else column["constant"]  # scalars and tuples: safe to share
        return lambda row: value
    values = column["values"]
    if decode is None and not missing:
        return values.__getitem__
    if "table" in column:  # decoded on each access: every clip gets its own copy, as the pickle's clips did
        table = column["table"]
        return lambda row: _MISSING if row in missing else _decode(table[values[row]])
    return lambda row: _MISSING if row in missing else decode(values[row]) if decode else values[row]


# ----------------------------------------------------------------------------
# Building
# ----------------------------------------------------------------------------

def _storage_dtype(dtypes: set) -> np.dtype:
    """The common dtype of the clips' arrays (float16 for the official files); integers become float32."""
    dtype = np.result_type(*dtypes)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)


def _npy_header(file, dtype: np.dtype, shape: tuple) -> None:
    np.lib.format.write_array_header_1_0(
        file, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows: folders cannot be opened; the rename is as durable as the platform allows
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _remove_stale_temporaries(folder: Path) -> None:
    """Delete temp/old folders of `folder` left by builds whose process has died."""
    pattern = re.compile(rf"^\.{re.escape(folder.name)}\.(tmp|old)-(\d+)-")
    for entry in folder.parent.glob(f".{folder.name}.*"):
        match = pattern.match(entry.name)
        if match and entry.is_dir() and not pid_alive(int(match[2])):
            shutil.rmtree(entry, ignore_errors=True)


def _remove_orphans(root: Path) -> None:
    """Delete cache folders under `root` whose source file no longer exists (e.g. tests' temporary files)."""
    for folder in root.iterdir():
        manifest = folder / "manifest.json"
        if folder.name.startswith(".") or not manifest.is_file():
            continue
        try:
            source = json.loads(manifest.read_text(encoding="utf-8"))["source"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a broken cache is rebuilt when its source is opened
        if not Path(source).exists():
            shutil.rmtree(folder, ignore_errors=True)


def _move_into_place(temp: Path, folder: Path) -> None:
    """Rename the finished `temp` folder to `folder`, replacing an old or broken one there."""
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-{os.getpid()}-"))
        os.rename(folder, old / "cache")
    try:
        os.rename(temp, folder)
    except OSError:
        if not (folder / "manifest.json").is_file():
            raise
        shutil.rmtree(temp, ignore_errors=True)  # a concurrent build finished first: keep its cache
    _fsync_dir(folder.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)  # open memory maps of the old files stay valid


def build_cache(path: str | os.PathLike, verbose: bool = True) -> Path:
    """Unpickle (restricted) and validate `path`, write its cache folder atomically; returns the folder.

    Peak memory is about that of `load_dataset(path)`: the arrays are streamed to
    disk clip by clip and each clip is released once written.
    """
    path = Path(path)
    folder = cache_folder(path)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(folder)
    _remove_orphans(folder.parent)
    fingerprint = source_fingerprint(path)
    start = time.perf_counter()
    if verbose:
        print(f"Caching {path} ({fingerprint['size'] / 2**20:.0f} MiB) in {folder}: "
              "unpickling and validating once...", flush=True)
    dataset = load_dataset(path)
    clips = dataset.annotations
    joints = dataset.layout.num_joints
    keypoint_dtype = _storage_dtype({clip["keypoint"].dtype for clip in clips})
    score_dtype = _storage_dtype({clip["keypoint_score"].dtype for clip in clips})
    columns = np.zeros((len(clips), len(_COLUMNS)), np.int64)  # label, persons, frames, offset
    columns[:, 0] = [int(clip["label"]) for clip in clips]
    columns[:, 1:3] = [clip["keypoint"].shape[:2] for clip in clips]
    sizes = columns[:, 1] * columns[:, 2]
    columns[1:, 3] = np.cumsum(sizes)[:-1]
    rows = int(sizes.sum())
    index = {"frame_dir": []}
    extras: dict[str, list] = {}  # field -> value per clip so far

    temp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-{os.getpid()}-"))
    try:
        temp.chmod(0o755)  # mkdtemp makes it private; the cache is as readable as the data folder
        with open(temp / "keypoint.npy", "wb") as keypoint_file, open(temp / "keypoint_score.npy", "wb") as score_file:
            _npy_header(keypoint_file, keypoint_dtype, (rows, joints, 2))
            _npy_header(score_file, score_dtype, (rows, joints))
            for i in tqdm(range(len(clips)), desc=f"caching {path.name}", unit="clip", disable=not verbose):
                clip, clips[i] = clips[i], None  # release each clip once written
                keypoint_file.write(np.ascontiguousarray(clip["keypoint"], keypoint_dtype).data)
                score_file.write(np.ascontiguousarray(clip["keypoint_score"], score_dtype).data)
                index["frame_dir"].append(clip["frame_dir"])
                for key, value in clip.items():
                    if key not in _FIXED_KEYS:
                        extras.setdefault(key, [_MISSING] * i).append(value)
                for column in extras.values():
                    if len(column) == i:
                        column.append(_MISSING)
            for file in (keypoint_file, score_file):
                file.flush()
                os.fsync(file.fileno())
        index["extra"] = {key: _encode_column(column, f"{path}: field {key!r}") for key, column in extras.items()}
        row_of = {frame_dir: row for row, frame_dir in enumerate(index["frame_dir"])}
        split = {name: [row_of[member] for member in members] for name, members in dataset.split.items()}
        split_rows = np.array([row for members in split.values() for row in members], np.int64)
        meta = {"source": str(path.resolve()), "split": {name: len(members) for name, members in split.items()},
                "class_names": dataset.class_names,
                "layout": dataset.layout.name, "num_joints": joints,
                "keypoint_dtype": str(keypoint_dtype), "score_dtype": str(score_dtype)}
        _write_bytes(temp / "index.json", json.dumps(index, separators=(",", ":")).encode("utf-8"))
        _write_bytes(temp / "meta.json", json.dumps(meta, separators=(",", ":")).encode("utf-8"))
        for name, array in (("clips.npy", columns), ("split.npy", split_rows)):
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            _write_bytes(temp / name, buffer.getvalue())
        manifest = {
            "format_version": FORMAT_VERSION,
            "source": str(path.resolve()),
            "fingerprint": fingerprint,
            "num_clips": len(clips),
            "num_rows": rows,
            "files": {name: (temp / name).stat().st_size for name in (*_ARRAYS, *_SMALL)},
            "sha256": {name: _sha256(temp / name) for name in _SMALL},
            "note": "keypoint arrays are checked by size and header only; the other files by SHA-256",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        _write_bytes(temp / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
        _fsync_dir(temp)
        _move_into_place(temp, folder)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if verbose:
        print(f"Cached {len(clips)} clips ({sum(manifest['files'].values()) / 2**20:.0f} MiB) "
              f"in {time.perf_counter() - start:.1f} s", flush=True)
    return folder


# ----------------------------------------------------------------------------
# Opening
# ----------------------------------------------------------------------------

class CachedClips(Sequence):
    """The annotation dicts of a cached dataset, read-only, each made on first access and then kept.

    Behaves as the list that `load_dataset` gives (len, indexing, slicing, iteration,
    the same dict for the same clip every time) without making 13,320 dicts when a
    dataset is opened.  Each clip's `keypoint` (M, T, V, 2) and `keypoint_score`
    (M, T, V) are read-only views of the memory-mapped (R, V, 2) and (R, V) arrays.
    `frame_dirs` lists the clips' ids in order (SkeletonDataset indexes them
    without making the clips).  Pickling gives a plain list.
    """

    def __init__(self, frame_dirs: list[str], labels: list[int], rows: list[int], columns: np.ndarray,
                 extras: dict, keypoint: np.ndarray, score: np.ndarray, joints: int):
        self.frame_dirs = frame_dirs          # (N,) ids of the kept clips
        self._labels = labels                 # (N,) labels as returned (relabelled for a class subset)
        self._rows = rows                     # (N,) their clip numbers in the cache
        self._columns = columns               # (all clips, 4) label, persons, frames, first row
        self._extras = extras                 # field -> function(clip number) -> value or _MISSING
        self._keypoint = keypoint.view(np.ndarray)  # (R, V, 2) plain arrays still backed by the map
        self._score = score.view(np.ndarray)        # (R, V)
        self._maps = [getattr(array, "_mmap", None) for array in (keypoint, score)]  # the mmap objects
        self._joints = joints
        self._made: list[dict | None] = [None] * len(frame_dirs)

    def __len__(self) -> int:
        return len(self._made)

    def _make(self, i: int) -> dict:
        row = self._rows[i]
        _, persons, frames, start = self._columns[row].tolist()
        stop = start + persons * frames
        clip = {"frame_dir": self.frame_dirs[i], "label": self._labels[i]}
        for key, read in self._extras.items():
            value = read(row)
            if value is not _MISSING:
                clip[key] = value
        clip["keypoint"] = self._keypoint[start:stop].reshape(persons, frames, self._joints, 2)
        clip["keypoint_score"] = self._score[start:stop].reshape(persons, frames, self._joints)
        self._made[i] = clip
        return clip

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        clip = self._made[i]  # IndexError and negative indices as for a list
        return clip if clip is not None else self._make(i % len(self))

    def __iter__(self):
        made = self._made
        for i in range(len(made)):
            clip = made[i]
            yield clip if clip is not None else self._make(i)

    def __reduce__(self):
        return list, (list(self),)

    def release_pages(self) -> None:
        """Drop the pages of the mapped arrays that this process has read from its resident memory.

        The maps are read-only and file-backed: the pages stay in the kernel's page
        cache and a later read of a clip maps them again, so this loses nothing; it
        keeps a run's resident memory to what it holds itself (e.g. preprocessed
        inputs) rather than every clip it once read.  A no-op where madvise is missing.
        """
        advice = getattr(mmap, "MADV_DONTNEED", None)
        for mapped in self._maps:
            if mapped is not None and advice is not None and hasattr(mapped, "madvise"):
                mapped.madvise(advice)

    def __repr__(self) -> str:
        return f"<CachedClips: {len(self)} clips, {sum(c is not None for c in self._made)} made so far>"


def _dataset_from_cache(meta: dict, index: dict, columns: np.ndarray, split_rows: np.ndarray,
                        keypoint: np.ndarray, score: np.ndarray, source: str,
                        classes: list | None) -> SkeletonDataset:
    """The dataset of an opened cache, reduced to `classes` (all when None); its clips are `CachedClips`.

    columns: (N, 4) label, persons, frames, first row; split_rows: (S,) clip numbers of the
    splits, concatenated in meta's order; keypoint: (R, V, 2), score: (R, V), memory-mapped.
    """
    layout = get_layout(meta["layout"])
    frame_dirs, class_names = index["frame_dir"], meta["class_names"]
    labels = columns[:, 0]
    bounds = np.cumsum([0, *meta["split"].values()]).tolist()
    members = {name: split_rows[start:stop] for name, start, stop in zip(meta["split"], bounds, bounds[1:])}
    if classes:
        # select_classes on one stub per class resolves ids and names and numbers the
        # kept classes, so the rules and error messages are exactly those of the uncached path
        stubs = [{"frame_dir": f"class {old}", "label": old, "old": old} for old in range(len(class_names))]
        chosen = select_classes(SkeletonDataset(stubs, {}, class_names, layout, source), list(classes))
        new_label = np.full(len(class_names), -1, np.int64)
        for stub in chosen.annotations:
            new_label[stub["old"]] = stub["label"]
        class_names = chosen.class_names
        kept = new_label[labels] >= 0  # (N,) bool
        rows = np.flatnonzero(kept).tolist()
        labels = new_label[labels[rows]].tolist()
        members = {name: rows_[kept[rows_]] for name, rows_ in members.items()}
        kept_frame_dirs = [frame_dirs[row] for row in rows]
    else:
        rows, labels, kept_frame_dirs = range(len(frame_dirs)), labels.tolist(), frame_dirs
    split = {name: [frame_dirs[row] for row in rows_.tolist()] for name, rows_ in members.items()}
    extras = {key: _column_reader(column) for key, column in index["extra"].items()}
    clips = CachedClips(kept_frame_dirs, labels, rows, columns, extras, keypoint, score, layout.num_joints)
    return SkeletonDataset(clips, split, class_names, layout, source)


def open_cached_dataset(path: str | os.PathLike, classes: list | None = None, rebuild: bool = False,
                        verbose: bool = True) -> SkeletonDataset:
    """The dataset of pickle `path` through its cache (built, or rebuilt, when needed).

    `classes` (ids or names, as `select_classes` takes) keeps only those clips,
    relabelled 0..K-1 in the given order.  `annotations` is a `CachedClips`: each
    clip's dict is made when first used, its `keypoint` (M, T, V, 2) and
    `keypoint_score` (M, T, V) read-only views of the memory-mapped cache, so
    nothing is read until used.
    A broken or stale cache is reported on stderr and rebuilt, never used; where the
    cache cannot be written (a read-only folder, a full disk) a warning says so and
    the pickle is read directly (`load_dataset`).
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: dataset file not found")
    folder = cache_folder(path)
    opened = None
    if not rebuild:
        try:
            with gc_paused():
                opened = _open_folder(folder, source_fingerprint(path))
        except _Unusable as problem:
            if folder.exists():
                print(f"Dataset cache {folder}: {problem}; rebuilding it.", file=sys.stderr, flush=True)
    if opened is None:
        try:
            build_cache(path, verbose)
        except OSError as error:  # a read-only or full cache folder: the data is still readable
            print(f"warning: cannot write the dataset cache in {cache_dir()} ({error.strerror or error}); "
                  f"reading {path} without it (set SKELETON_ACTIONS_CACHE to a writable folder to speed this up)",
                  file=sys.stderr, flush=True)
            dataset = load_dataset(path)
            return select_classes(dataset, list(classes)) if classes else dataset
        try:
            opened = _open_folder(folder, source_fingerprint(path))
        except _Unusable as problem:
            raise UserInputError(f"{path}: the cache just built in {folder} is unusable ({problem}); "
                                 "did the file change while it was read?") from None
    with gc_paused():
        return _dataset_from_cache(*opened, str(path), classes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.data.cache",
                                     description="Build (or check) the memory-mapped cache of a dataset pickle.")
    parser.add_argument("path", type=Path, help="dataset pickle")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if the cache is fresh")
    args = parser.parse_args(argv)
    dataset = open_cached_dataset(args.path, rebuild=args.rebuild)
    print(f"{cache_folder(args.path)}: {len(dataset.annotations)} clips, {dataset.num_classes} classes, "
          f"splits {', '.join(sorted(dataset.split))}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
