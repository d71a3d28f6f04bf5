import json
import statistics

import pytest
import torch

from helpers.tools import benchmark
from helpers.cli import parse_list, run_command
from helpers.data.dataset import save_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import evaluate as real_evaluate
from helpers.data.layouts import COCO17
from helpers.models.registry import build_model
from helpers.evaluation.timing import environment, inference_latency_ms, inference_throughput
from tests.conftest import make_tiny_dataset

TINY = "preprocess: {length: 16}\nmodel: {hidden_size: 16, num_layers: 1}\ntrain: {epochs: 3, batch_size: 16}\n"


@pytest.fixture
def tiny(tmp_path):
    data = make_tiny_dataset(groups=8)
    path = save_dataset(data, tmp_path / "tiny.pkl")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY)
    wide = tmp_path / "wide.yaml"
    # the wider recipe is tested at its last epoch (train.test_checkpoint)
    wide.write_text(TINY.replace("hidden_size: 16", "hidden_size: 24").replace("batch_size: 16",
                                                                               "batch_size: 16, test_checkpoint: last"))
    return data, path, recipe, wide


def test_benchmark_writes_report_and_tests_once_per_run(tiny, tmp_path, monkeypatch, capsys):
    data, path, recipe, wide = tiny
    calls = []

    def counting_evaluate(checkpoint, dataset, split="test", out_dir=None, verbose=True):
        calls.append((checkpoint.path, split))
        return real_evaluate(checkpoint, dataset, split, out_dir, verbose)

    monkeypatch.setattr(benchmark, "evaluate", counting_evaluate)
    out = tmp_path / "bench"
    argv = ["--data", str(path), "--set", "data.split=1", "--models", "baseline,improved", "--seeds", "0,1",
            "--recipe", str(recipe), "--recipe", f"improved={wide}", "--set", "train.epochs=1", "--name", "tiny",
            "--out", str(out), "--timing-seconds", "0.05", "--set", "train.num_threads=1"]
    assert run_command(benchmark.main, argv) == 0
    assert "wrote" in capsys.readouterr().out

    # test evaluated exactly once per model and seed, on the checkpoint its recipe names
    assert sorted(calls) == sorted((out / "tiny" / m / f"seed{s}" / name, "test")
                                   for m, name in (("baseline", "best.pt"), ("improved", "last.pt")) for s in (0, 1))
    report = json.loads((out / "tiny.json").read_text())
    markdown = (out / "tiny.md").read_text()
    assert report["complete"] and report["seeds"] == [0, 1]
    assert report["command"] == "python -m helpers.tools.benchmark " + " ".join(argv)
    assert "evaluate that checkpoint once on test1" in markdown and "## Per seed" in markdown
    for key in ("python", "torch", "numpy", "cpu_count", "torch_threads"):
        assert key in report["environment"]

    test_ids = set(data["split"]["test1"])
    for model, hidden in (("baseline", 16), ("improved", 24)):
        entry = report["models"][model]
        assert entry["config"]["model"]["name"] == model and entry["config"]["model"]["hidden_size"] == hidden
        runs = entry["runs"]
        assert [run["seed"] for run in runs] == [0, 1]
        for run in runs:
            splits = json.loads((out / "tiny" / model / f"seed{run['seed']}" / "splits.json").read_text())
            assert set(splits["test"]) == test_ids
            assert not test_ids & (set(splits["train"]) | set(splits["val"]))
            assert set(splits["train"]) | set(splits["val"]) == set(data["split"]["train1"])
            assert run["num_val"] > 0 and run["parameters"] > 0 and run["clips_per_s_b64"] > 0
        for key in ("test_accuracy", "test_macro_f1", "train_seconds", "ms_per_clip_b1"):
            values = [run[key] for run in runs]
            summary = entry["summary"][key]
            assert summary["mean"] == pytest.approx(statistics.mean(values))
            assert summary["std"] == pytest.approx(statistics.stdev(values))
        accuracy = entry["summary"]["test_accuracy"]
        assert f"| {model} | {100 * accuracy['mean']:.1f} ± {100 * accuracy['std']:.1f} |" in markdown
        for run in runs:
            assert f"| {model} | {run['seed']} | 1/1 |" in markdown
    assert report["models"]["improved"]["summary"]["parameters"]["mean"] > \
        report["models"]["baseline"]["summary"]["parameters"]["mean"]


def test_recipes_must_share_data_and_name_known_models(tiny, tmp_path):
    _, path, recipe, _ = tiny
    other = tmp_path / "other.yaml"
    other.write_text("data: {val_fraction: 0.3}\n")
    with pytest.raises(UserInputError, match="different data settings"):
        benchmark.model_configs(["baseline", "improved"], None, [str(recipe), f"improved={other}"],
                                {"data": {"path": str(path)}})
    with pytest.raises(UserInputError, match="'stgcn2' is not in --models"):
        benchmark.model_configs(["baseline"], None, [f"stgcn2={recipe}"])
    with pytest.raises(UserInputError, match="unknown model 'nope'"):
        benchmark.model_configs(["nope"], None, [])
    with pytest.raises(UserInputError, match="--seeds: expected a comma-separated list"):
        parse_list("0,x", "seeds", int)
    configs = benchmark.model_configs(["baseline", "improved"], None, [str(recipe)],
                                      {"data": {"path": str(path), "split": 1}, "train": {"epochs": 2}})
    assert configs["improved"].model.name == "improved" and configs["baseline"].train.epochs == 2


def test_tested_checkpoint_is_best_or_last():
    config = benchmark.Config()
    assert benchmark.tested_checkpoint(config) == "best.pt"
    config.train.test_checkpoint = "last"
    assert benchmark.tested_checkpoint(config) == "last.pt"
    config.train.test_checkpoint = "final"
    with pytest.raises(UserInputError, match="train.test_checkpoint: 'final' is not a checkpoint"):
        benchmark.tested_checkpoint(config)


def test_single_seed_has_no_std(tiny):
    assert benchmark.mean_std([0.5]) == (0.5, None)
    assert benchmark.mean_std([0.4, 0.6]) == (pytest.approx(0.5), pytest.approx(statistics.stdev([0.4, 0.6])))


def test_timing_measures_and_restores_mode():
    model = build_model("baseline", 3, COCO17, 2, hidden_size=8, num_layers=1)
    model.train()
    shape = (2, 16, COCO17.num_joints, 1)                       # (C, T, V, M)
    assert inference_throughput(model, shape, batch_size=4, seconds=0.05) > 0
    assert inference_latency_ms(model, shape, repeats=3, warmup=1) > 0
    assert model.training
    env = environment()
    assert env["torch"] == torch.__version__ and env["cpu_count"] >= 1


def test_folds_hold_out_each_fold_of_train_and_never_read_test(tiny, tmp_path):
    data, path, recipe, wide = tiny
    out = tmp_path / "bench"
    argv = ["--data", str(path), "--models", "baseline,improved", "--folds", "2",
            "--recipe", str(recipe), "--recipe", f"improved={wide}", "--set", "train.epochs=1", "--name", "folds",
            "--fuse", "pair=baseline+improved", "--set", "train.num_threads=1", "--timing-seconds", "0.05",
            "--out", str(out)]
    assert run_command(benchmark.main, argv) == 0
    report = json.loads((out / "folds.json").read_text())
    markdown = (out / "folds.md").read_text()
    assert report["folds"] == 2 and report["seeds"] == [0]            # --folds alone: one seed
    train1, test1 = set(data["split"]["train1"]), set(data["split"]["test1"])
    held_out = []
    for fold in (0, 1):
        splits = json.loads((out / "folds" / "baseline" / f"fold{fold}" / "seed0" / "splits.json").read_text())
        assert not (set(splits["train"]) | set(splits["val"]) | set(splits["test"])) & test1
        assert splits["val"] and not set(splits["test"]) & (set(splits["train"]) | set(splits["val"]))
        held_out += splits["test"]
    assert sorted(held_out) == sorted(train1)
    for entry in ("baseline", "improved", "pair"):
        runs = report["models"][entry]["runs"]
        assert [run["fold"] for run in runs] == [0, 1]
        assert report["models"][entry]["summary"]["test_accuracy"]["n"] == 2
    assert "## Held-out fold results (mean ± sample std over 2 folds)" in markdown
    assert "| model | fold | seed |" in markdown and "| baseline | 1 | 0 | 1/1 |" in markdown
    assert "K-fold inside train1" in markdown and "test1 unread" in markdown
    assert run_command(benchmark.main, argv + ["--folds", "1"]) == 2


def test_a_classical_entry_is_benchmarked_and_fused_like_a_neural_one(tiny, tmp_path):
    data, path, recipe, _ = tiny
    forest = tmp_path / "forest.yaml"
    forest.write_text("preprocess: {length: 16, sampling: uniform}\n"
                      "model: {name: classical, extra: {estimator: random_forest, trees: 10}}\n")
    out = tmp_path / "bench"
    argv = ["--data", str(path), "--models", "baseline,forest", "--seeds", "0", "--recipe", str(recipe),
            "--recipe", f"forest={forest}", "--set", "train.epochs=1", "--fuse", "both=baseline+forest",
            "--name", "cls", "--out", str(out), "--timing-seconds", "0.05", "--set", "train.num_threads=1", "--refit"]
    assert run_command(benchmark.main, argv) == 0
    report = json.loads((out / "cls.json").read_text())
    run = report["models"]["forest"]["runs"][0]
    assert run["epochs"] == 1 and run["parameters"] > 0 and run["clips_per_s_b64"] > 0
    assert run["tested_checkpoint"].endswith("refit/best.pt")
    fused = report["models"]["both"]["runs"][0]
    assert fused["parameters"] == run["parameters"] + report["models"]["baseline"]["runs"][0]["parameters"]
    assert 0.0 <= fused["test_accuracy"] <= 1.0
