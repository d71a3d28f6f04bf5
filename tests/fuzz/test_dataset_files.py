"""Fuzz: broken dataset pickles and mangled pickle bytes through cache, predict, train and convert ddnet."""
from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import convert, predict, train
from helpers.data import cache
from tests.conftest import make_tiny_dataset
from tests.fuzz.harness import budget, run_entry
from tests.fuzz.strategies import broken_datasets, mangled, values
from tests.hostile import tiny_checkpoint

BASE = make_tiny_dataset(num_classes=2, groups=5, clips_per_group=1, frames=(8, 12))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("fuzz") / "best.pt", class_names=("Class0", "Class1"))


@pytest.fixture(scope="module")
def tiny_yaml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "tiny.yaml"
    path.write_text("model:\n  hidden_size: 8\n  num_layers: 1\npreprocess:\n  length: 8\n"
                    "train:\n  epochs: 1\n  batch_size: 8\n  num_threads: 1\n")
    return path


def _pickled(data, protocol: int) -> bytes | None:
    try:
        return pickle.dumps(data, protocol=protocol)
    except (RecursionError, pickle.PicklingError, TypeError, ValueError):
        return None  # not every generated value can be pickled; those inputs do not exist on disk


def _check_cache_and_predict(raw: bytes, checkpoint: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = folder / "data.pkl"
        path.write_bytes(raw)
        root = folder / "cache"
        os.environ["SKELETON_ACTIONS_CACHE"] = str(root)
        code, _ = run_entry(cache.main, [path], watch=[root])
        if code == 0:
            assert (cache.cache_folder(path) / "manifest.json").is_file()
        run_entry(predict.main, ["--ckpt", checkpoint, "--input", path, "--clip", "v_Class0_g01_c01"],
                  watch=[folder])


@budget(30)
@given(data=broken_datasets(BASE), protocol=st.integers(0, 5))
def test_broken_datasets_through_cache_and_predict(data, protocol, checkpoint):
    raw = _pickled(data, protocol)
    if raw is not None:
        _check_cache_and_predict(raw, checkpoint)


@budget(60)
@given(raw=st.sampled_from([2, 3, 5]).flatmap(lambda protocol: mangled(pickle.dumps(BASE, protocol=protocol))))
def test_mangled_pickle_bytes_through_cache_and_predict(raw, checkpoint):
    _check_cache_and_predict(raw, checkpoint)


@budget(8)
@given(data=broken_datasets(BASE))
def test_broken_datasets_through_train(data, tiny_yaml):
    raw = _pickled(data, 4)
    if raw is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "data.pkl").write_bytes(raw)
        os.environ["SKELETON_ACTIONS_CACHE"] = str(folder / "cache")
        run = folder / "run"
        code, _ = run_entry(train.main, ["--config", tiny_yaml, "--data", folder / "data.pkl", "--out", run],
                            watch=[run])
        if code == 0:
            assert (run / "best.pt").is_file() and (run / "last.pt").is_file()


@budget(20)
@given(poses=st.one_of(values, st.lists(values, max_size=3)), labels=st.one_of(values, st.lists(values, max_size=3)),
       keep=st.booleans())
def test_broken_ddnet_pickles_through_convert(poses, labels, keep):
    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        good = {"pose": [np.ones((12, 15, 2))] * 2, "label": ["clap", "wave"]}
        bad = {"pose": poses, "label": labels} if keep else poses
        for name, value in (("train.pkl", good), ("test.pkl", bad)):
            raw = _pickled(value, 2)
            if raw is None:
                return
            (folder / name).write_bytes(raw)
        out = folder / "out" / "jhmdb.pkl"
        code, _ = run_entry(convert.main, ["ddnet", "--train", folder / "train.pkl", "--test", folder / "test.pkl",
                                           "--out", out], watch=[folder / "out"])
        assert out.is_file() == (code == 0)
