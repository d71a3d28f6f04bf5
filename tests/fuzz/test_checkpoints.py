"""Fuzz: tampered checkpoints (fields, settings, weights, bytes) through predict and evaluate."""
from __future__ import annotations

import copy
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers import evaluate, predict
from helpers.data.dataset import save_dataset
from tests.conftest import make_tiny_dataset
from tests.fuzz.harness import budget, run_entry
from tests.fuzz.strategies import mangled, scalars, values
from tests.hostile import tiny_checkpoint

KWARG_NAMES = ["hidden_size", "num_layers", "dropout", "filters", "stages", "max_persons", "wings"]

tensors = st.builds(lambda shape, dtype: torch.zeros(shape, dtype=dtype),
                    st.lists(st.integers(0, 9), max_size=3).map(tuple),
                    st.sampled_from([torch.float32, torch.float16, torch.int64, torch.bool]))
# torch.load(weights_only=True) reads tensors and plain containers; numpy arrays are refused, which is tried too
checkpoint_values = st.one_of(scalars, tensors, values.filter(lambda v: not isinstance(v, np.ndarray)))


@st.composite
def tampered_states(draw, base: dict) -> dict:
    state = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "field gone", "setting", "config", "weight"]))
        if kind == "field":
            state[draw(st.sampled_from(sorted(base) + ["extra"]))] = draw(checkpoint_values)
        elif kind == "field gone":
            state.pop(draw(st.sampled_from(sorted(base))), None)
        elif kind == "setting" and isinstance(state.get("model_kwargs"), dict):
            state["model_kwargs"][draw(st.sampled_from(KWARG_NAMES))] = draw(st.one_of(scalars, st.integers(0, 70000)))
        elif kind == "config" and isinstance(state.get("config"), dict):
            section = draw(st.sampled_from(["data", "preprocess", "augment", "model", "train", "bogus"]))
            fields = state["config"].setdefault(section, {})
            if isinstance(fields, dict):
                fields[draw(st.sampled_from(sorted(fields) or ["x"]))] = draw(scalars)
        elif kind == "weight" and isinstance(state.get("state_dict"), dict) and state["state_dict"]:
            state["state_dict"][draw(st.sampled_from(sorted(state["state_dict"])))] = draw(tensors)
    return state


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A clip to predict, a dataset config to evaluate on, and the valid checkpoint's state."""
    folder = tmp_path_factory.mktemp("fuzz")
    data = make_tiny_dataset(num_classes=3, groups=4, clips_per_group=1, frames=(8, 12))
    data["class_names"] = ["a", "b", "c"]
    dataset = save_dataset(data, folder / "tiny.pkl")
    config = folder / "data.yaml"
    config.write_text(f"data:\n  path: {dataset}\n  cache: false\n")
    clip = folder / "clip.pkl"
    clip.write_bytes(pickle.dumps(data["annotations"][0]))
    good = tiny_checkpoint(folder / "good.pt")
    return clip, config, good, torch.load(good, weights_only=True)


def _check(path: Path, inputs) -> None:
    clip, config, _, _ = inputs
    code, out = run_entry(predict.main, ["--ckpt", path, "--input", clip], watch=[path.parent])
    if code == 0:
        assert "1. " in out
    out_dir = path.parent / "eval"
    run_entry(evaluate.main, ["--ckpt", path, "--config", config, "--out", out_dir], watch=[path.parent])


@budget(40)
@given(data=st.data())
def test_tampered_checkpoints_through_predict_and_evaluate(data, inputs):
    state = data.draw(tampered_states(inputs[3]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tampered.pt"
        torch.save(state, path)
        _check(path, inputs)


@budget(15)
@given(data=st.data())
def test_mangled_checkpoint_bytes_through_predict_and_evaluate(data, inputs):
    raw = data.draw(mangled(inputs[2].read_bytes()))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mangled.pt"
        path.write_bytes(raw)
        _check(path, inputs)
