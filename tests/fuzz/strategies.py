"""Hypothesis strategies for hostile and careless input: odd values, broken datasets, mangled bytes."""
from __future__ import annotations

import copy

import numpy as np
from hypothesis import strategies as st

from tests.hostile import nested

ODD_TEXT = ["", "\n", "\x1b[2J", "$\\undefinedmacro$", "v_Class0_g01_c01", "v_Class1_g02_c01", "train1", "test1",
            "coco17", "1e-3", "ten", "no", "nan", "-1", "é\u202e", "a" * 300]

scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2, 3, 100, 10**9, 2**31, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(ODD_TEXT),
    st.binary(max_size=12),
    st.none(),
    st.booleans(),
)

_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_, np.complex64, "U3", "S2",
           ">f4", object]


@st.composite
def arrays(draw):
    """Small numpy arrays of any dtype and shape (including empty and keypoint-like ones), odd values inside."""
    shape = draw(st.one_of(st.lists(st.integers(0, 4), max_size=5).map(tuple),
                           st.sampled_from([(1, 3, 17, 2), (2, 4, 17, 2), (1, 3, 17), (1, 0, 17, 2), (0, 3, 17, 2),
                                            (1, 3, 15, 2), (1, 3, 17, 3), (3, 17, 2)])))
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    size = int(np.prod(shape))
    if dtype.hasobject:
        array = np.empty(shape, dtype)
        for i in range(size):
            array.flat[i] = draw(scalars)
        return array
    array = np.zeros(shape, dtype)
    if size and dtype.kind in "fc":
        array.flat[draw(st.integers(0, size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 6e4, 1.0]))
    return array


leaves = st.one_of(scalars, arrays())
values = st.one_of(
    st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                                                 st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                 max_leaves=8),
    st.integers(30, 300).map(nested),          # deeper than any bound
)

CLIP_KEYS = ["frame_dir", "label", "keypoint", "keypoint_score", "total_frames", "img_shape", "extra"]
TOP_KEYS = ["split", "annotations", "class_names", "layout", "source"]


@st.composite
def broken_datasets(draw, base: dict) -> dict:
    """A copy of the valid dataset dict `base` with one to three things broken."""
    data = copy.deepcopy(base)
    clips = data["annotations"]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["clip field", "clip key gone", "top field", "top key gone", "split entry",
                                     "split list", "shared by every clip", "clip dropped"]))
        if not isinstance(clips, list) or not clips or not all(isinstance(c, dict) for c in clips):
            kind = "top field"
        index = draw(st.integers(0, max(0, len(clips) - 1))) if isinstance(clips, list) else 0
        if kind == "clip field":
            clips[index][draw(st.sampled_from(CLIP_KEYS))] = draw(values)
        elif kind == "clip key gone":
            clips[index].pop(draw(st.sampled_from(CLIP_KEYS)), None)
        elif kind == "top field":
            data[draw(st.sampled_from(TOP_KEYS))] = draw(values)
        elif kind == "top key gone":
            data.pop(draw(st.sampled_from(TOP_KEYS)), None)
        elif kind == "clip dropped":
            clips.pop(index)
        elif isinstance(data.get("split"), dict) and data["split"]:
            name = draw(st.sampled_from(sorted(data["split"], key=str) + ["train2"]))
            members = data["split"].setdefault(name, [])
            if kind == "split list":
                data["split"][name] = draw(values)
            elif isinstance(members, list):
                ids = [c.get("frame_dir") for c in clips if isinstance(c, dict)] or ["x"]
                members.append(draw(st.one_of(st.sampled_from(ids), values)))
        if kind == "shared by every clip" and isinstance(clips, list):
            shared, key = draw(values), draw(st.sampled_from(CLIP_KEYS))
            for clip in clips:
                if isinstance(clip, dict):
                    clip[key] = shared
    return data


INTERESTING_OPCODES = [b"r", b"q", b"j", b"h", b"\x82", b"\x83", b"P", b"Q", b"c", b"\x93", b"R", b"b", b"]", b"(",
                       b".", b"t", b"\x85", b"0", b"2", b"\x94", b"\x8a", b"J", b"X", b"B", b"\x96", b"\x97"]


@st.composite
def mangled(draw, data: bytes) -> bytes:
    """`data` with a few bytes flipped, cut, inserted or replaced by opcodes."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(0, len(data) - 1)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "opcode"]))
        if kind == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[position:position + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=12))
        else:
            data[position:position] = draw(st.sampled_from(INTERESTING_OPCODES)) + draw(st.binary(max_size=5))
    return bytes(data)
