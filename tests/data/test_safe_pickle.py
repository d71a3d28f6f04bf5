import os
import pickle

import numpy as np
import pytest

from helpers.data.safe_pickle import UnsafePickleError, safe_load


class _Payload:
    """Unpickling this calls os.system: the classic pickle exploit."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_plain_data_and_numpy_arrays_load(tmp_path):
    value = {"a": [1, 2.5, "x", (3, 4)], "b": np.arange(6, dtype=np.float16).reshape(2, 3)}
    for protocol in (2, 4, 5):
        path = tmp_path / f"ok{protocol}.pkl"
        path.write_bytes(pickle.dumps(value, protocol=protocol))
        loaded = safe_load(path)
        assert loaded["a"] == value["a"]
        np.testing.assert_array_equal(loaded["b"], value["b"])
        assert loaded["b"].dtype == np.float16


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
