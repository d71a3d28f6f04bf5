"""Fuzz: broken keypoint files (JSON, .npy, .npz) and split files through `convert folder`."""
from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from helpers import convert
from helpers.data.dataset import load_dataset
from tests.fuzz.harness import budget, run_entry
from tests.fuzz.strategies import arrays

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.sampled_from(["x", "y", "score",
                                                                                           "keypoints", "z"]),
                                                                         inner, max_size=4)),
    max_leaves=30)

_DESCRS = ["<f8", "<f4", "<f2", ">f4", "|u1", "<i8", "|b1", "<U3", "|O", "|V3", "<c8"]


@st.composite
def npy_bytes(draw) -> bytes:
    """A .npy file: a real array, or a header whose shape and dtype need not match the data after it."""
    if draw(st.booleans()):
        buffer = io.BytesIO()
        np.save(buffer, draw(arrays()), allow_pickle=True)
        return buffer.getvalue()
    header = io.BytesIO()
    shape = tuple(draw(st.lists(st.integers(0, 2**40), max_size=4)))
    np.lib.format.write_array_header_1_0(header, {"descr": draw(st.sampled_from(_DESCRS)), "fortran_order":
                                                  draw(st.booleans()), "shape": shape})
    return header.getvalue() + draw(st.binary(max_size=200))


@st.composite
def npz_bytes(draw) -> bytes:
    buffer = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name in draw(st.lists(st.sampled_from(["keypoint", "keypoints", "keypoint_score", "other"]),
                                  min_size=1, max_size=3, unique=True)):
            archive.writestr(f"{name}.npy", draw(npy_bytes()))
    return buffer.getvalue()


clip_files = st.one_of(
    st.tuples(st.just(".json"), json_values.map(lambda v: json.dumps(v).encode())),
    st.tuples(st.just(".json"), st.sampled_from([b"[" * 50_000 + b"]" * 50_000, b"[[[1e999, 1]]]", b"\xff\xfe",
                                                 b"[[[" + b"9" * 6000 + b", 1]]]", b"[[NaN, 1]]"])),
    st.tuples(st.just(".npy"), npy_bytes()),
    st.tuples(st.just(".npz"), npz_bytes()),
)


def _good_clip(rng) -> np.ndarray:
    return rng.uniform(0, 100, size=(6, 17, 3))


@budget(60)
@given(broken=clip_files, split=st.one_of(st.none(), json_values.map(lambda v: json.dumps(v).encode())))
def test_broken_clip_and_split_files_through_convert_folder(broken, split):
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        root = folder / "clips"
        for name in ("jump", "wave"):
            (root / name).mkdir(parents=True)
            for index in range(3):
                np.save(root / name / f"clip{index}.npy", _good_clip(rng))
        suffix, content = broken
        (root / "wave" / f"odd{suffix}").write_bytes(content)
        argv = ["folder", root, "--out", folder / "out" / "mine.pkl"]
        if split is not None:
            (folder / "split.json").write_bytes(split)
            argv += ["--split-file", folder / "split.json"]
        code, _ = run_entry(convert.main, argv, watch=[folder / "out"])
        if code == 0:
            assert len(load_dataset(folder / "out" / "mine.pkl").annotations) == 7
