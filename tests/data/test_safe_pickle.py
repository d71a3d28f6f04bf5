import os
import pickle
import resource
import time

import numpy as np
import pytest

from helpers.data import safe_pickle
from helpers.data.safe_pickle import UnsafePickleError, safe_load
from helpers.errors import UserInputError
from tests.hostile import HOSTILE_PICKLES, shared_references


class _Payload:
    """Unpickling this calls os.system: the classic pickle exploit."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _same(a, b):
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.flags.writeable == b.flags.writeable
        if a.dtype.hasobject:
            for x, y in zip(a.flat, b.flat):
                _same(x, y)
        else:
            np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


PLAIN = {"a": [1, 2.5, "x", (3, 4), None, True], "b": np.arange(6, dtype=np.float16).reshape(2, 3),
         "big-endian": np.arange(4, dtype=">f4"), "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
         "text": np.array(["ab", "c"]), "empty": np.zeros((0, 3)), "scalars": [np.float32(1.5), np.int64(7)],
         "objects": np.array([np.zeros(2), "x", None], dtype=object), "shared": [(256, 340)] * 3}


@pytest.mark.parametrize("protocol", range(6))
def test_plain_data_and_numpy_arrays_load_as_pickle_loads_them(tmp_path, protocol):
    path = tmp_path / f"ok{protocol}.pkl"
    path.write_bytes(pickle.dumps(PLAIN, protocol=protocol))
    _same(safe_load(path), pickle.loads(path.read_bytes()))


def test_real_files_load_as_pickle_loads_them(ucf_sample_path, jhmdb_paths):
    for path in (ucf_sample_path, *jhmdb_paths):
        _same(safe_load(path), pickle.loads(path.read_bytes()))


def test_code_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"annotations": [_Payload(marker)]}))
    with pytest.raises(UnsafePickleError, match=r"evil\.pkl.*posix\.system|evil\.pkl.*os\.system"):
        safe_load(path)
    assert not marker.exists()


def test_truncated_and_missing_files_name_the_file(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"x": np.zeros(100)})[:40])
    with pytest.raises(ValueError, match="cut.pkl"):
        safe_load(path)
    with pytest.raises(ValueError, match="nothere.pkl: file not found"):
        safe_load(tmp_path / "nothere.pkl")


EXPECTED = {
    "negative dimension": "non-negative integers",
    "8 TiB declared shape": "needs 8796093022208 bytes of data, the file gives 0",
    "8 TiB _reconstruct without data": "an array without data",
    "ndarray called directly": "calls numpy.ndarray directly",
    "object array shorter than its shape": "expected a list of 1048576 items",
    "extension code": "unregistered extension code",
    "persistent id": "persistent ids",
    "codecs.encode rot13": "codecs.encode",
    "codecs.encode of an int": "codecs.encode",
    "list nested 10^6 deep": "more than 32 levels deep",
    "cycle": "reference cycle",
    "memo index 2^28": "needs more memory than a file of its size may take",
    "os.system": "references 'os.system'",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PICKLES))
def test_hostile_pickles_are_refused_fast_in_one_line_without_allocating(case, tmp_path):
    """Each was a traceback, a crash (the short object array segfaulted numpy) or gigabytes of memory."""
    path = tmp_path / "hostile.pkl"
    path.write_bytes(HOSTILE_PICKLES[case])
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(UserInputError) as error:
        safe_load(path)
    assert time.perf_counter() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 300 * 1024  # kB: < 300 MB more
    message = str(error.value)
    assert message.startswith(f"{path}: ") and EXPECTED[case] in message and "\n" not in message


def test_shared_references_are_counted_in_full(tmp_path):
    """A 25 KB pickle of shared references once unfolded into a 212 MiB cache index after 140 s."""
    path = tmp_path / "shared.pkl"
    path.write_bytes(shared_references())
    start = time.perf_counter()
    with pytest.raises(UnsafePickleError, match=r"shared.pkl: refused to load pickle: it unfolds to more than"):
        safe_load(path)
    assert time.perf_counter() - start < 1


def test_one_array_shared_by_every_clip_is_counted_per_reference(tmp_path):
    """Every clip pointing at one array would make a cache (or a training set) of clips x array bytes."""
    array = np.zeros(10**6, np.float32)
    path = tmp_path / "shared_array.pkl"
    path.write_bytes(pickle.dumps({"annotations": [{"keypoint": array} for _ in range(100)]}, protocol=3))
    with pytest.raises(UnsafePickleError, match="its arrays unfold to more than"):
        safe_load(path)
    path.write_bytes(pickle.dumps({"annotations": [{"keypoint": array} for _ in range(3)]}, protocol=3))
    assert len(safe_load(path)["annotations"]) == 3  # a little sharing is fine


def test_bounds_follow_the_file_size():
    assert safe_pickle.expansion_limit(1000) == 4 * 1000 + 1_000_000
    assert safe_pickle.array_bytes_limit(1000) == 2 * 1000 + (64 << 20)
    assert safe_pickle.memory_allowance(1000) == 3 * 1000 + (256 << 20)


def test_address_space_limit_is_restored(tmp_path):
    path = tmp_path / "memo.pkl"
    path.write_bytes(HOSTILE_PICKLES["memo index 2^28"])
    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(UserInputError):
        safe_load(path)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
