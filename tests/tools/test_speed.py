import json
import math

import pytest
import torch

from tests.conftest import make_tiny_dataset
from helpers.tools import speed
from helpers.data.dataset import save_dataset
from helpers.errors import UserInputError


@pytest.fixture
def five_class_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_ACTIONS_CACHE", str(tmp_path / "cache"))
    return save_dataset(make_tiny_dataset(num_classes=5, groups=6, clips_per_group=1), tmp_path / "five.pkl")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def test_benchmark_reports_every_measurement_as_numbers(five_class_path):
    threads = torch.get_num_threads()
    in_process = lambda name, params: speed.MEASURES[name](params)  # noqa: E731  (fresh processes are slow)
    try:
        result = speed.run_benchmark(five_class_path, quick=True, models=["baseline"], threads=1, run=in_process,
                                     train_commands=False)  # the train command rows: test_train_command_rows
    finally:
        torch.set_num_threads(threads)
    result = json.loads(json.dumps(result))  # what speed.json holds

    assert result["dataset"]["clips"] == 30 and result["dataset"]["subset_classes"] == [0, 1, 2, 3, 4]
    for step in ("unpickle", "cache_build", "warm_load"):
        for key in ("seconds", "cpu_seconds", "peak_rss_mb"):
            assert is_number(result[step][key]), (step, key)
    for run in ("subset_run", "subset_run_uncached"):
        for key in ("peak_rss_mb", "rss_python_mb", "rss_after_torch_mb", "rss_after_imports_mb",
                    "peak_after_imports_mb", "rss_after_open_mb", "floor_mb", "data_mb"):
            assert is_number(result[run][key]), (run, key)
        for name in speed.LSTMS:
            assert 0 <= result[run]["runs"][name]["data_wait_share"] <= 1
    baseline = result["models"]["baseline"]
    for key in ("parameters", "train_clips_per_s", "data_wait_share", "infer_clips_per_s", "latency_ms"):
        assert is_number(baseline[key]) and baseline[key] >= 0, key
    bf16 = result["models_cpu_bf16"]  # measured where the CPU computes in bfloat16 natively
    assert (bf16 is not None) == result["machine"]["cpu_native_bf16"]
    if bf16:
        assert bf16["baseline"]["precision"] == "bfloat16" and baseline["precision"] == "float32"
        assert is_number(bf16["baseline"]["train_clips_per_s"]) and bf16["baseline"]["train_clips_per_s"] > 0
    # without --compare-ref and a GPU, the comparison and GPU targets are not measured
    assert set(result["targets"]) == {"warm_speedup", "subset_data_share", "data_wait_share", "lstm_inference"}
    for target in result["targets"].values():
        assert is_number(target["value"]) and isinstance(target["passed"], bool)
    run = result["subset_run"]
    assert run["data_mb"] == run["peak_rss_mb"] - run["floor_mb"] and run["floor_mb"] >= run["peak_after_imports_mb"]
    memory = result["targets"]["subset_data_share"]  # the data part above the run's own floor
    assert memory["value"] == run["data_mb"] / result["unpickle"]["peak_rss_mb"] and memory["goal"] == 0.05
    assert memory["peak_share"] == run["peak_rss_mb"] / result["unpickle"]["peak_rss_mb"]
    assert result["dataset"]["mean_person_slots"] == 1.0 and result["gpu_models"] == {}
    machine = result["machine"]
    assert is_number(machine["cpu_count"]) and machine["torch_threads"] == 1
    assert machine["torch"] and machine["numpy"] and machine["python"] and len(machine["load_average_before"]) == 3

    report = speed.format_report(result)
    assert "| baseline |" in report and ("PASS" in report or "FAIL" in report)
    assert "| from the cache |" in report and "| without the cache |" in report and "data part" in report


def test_a_measurement_runs_in_its_own_process(five_class_path):
    speed.run_isolated("cache_build", {"dataset": str(five_class_path)})
    result = speed.run_isolated("warm_load", {"dataset": str(five_class_path)})
    assert result["clips"] == 30
    assert is_number(result["seconds"]) and 0 < result["peak_rss_mb"] < 1000  # no torch in this child


def test_missing_dataset_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        speed.main(["--dataset", str(tmp_path / "nope.pkl"), "--out", str(tmp_path)])


def test_before_after_runs_both_revisions_alternately(five_class_path):
    from helpers.tools import speed_reference

    params = {"dataset": str(five_class_path), "config": None, "classes": [0, 1, 2, 3, 4],
              "budget": speed._budget(quick=True)}
    comparison = speed_reference.compare(speed.run_isolated, params, "HEAD", ["baseline"], [1], rounds=1,
                                         progress=lambda text: None)
    (row,) = comparison["rows"]
    assert row["model"] == "baseline" and row["threads"] == 1 and len(comparison["commit"]) == 40
    for side in ("current", "reference"):
        assert is_number(row[side]["train_clips_per_s"]) and row[side]["train_clips_per_s"] > 0
    assert row["train_ratio"] == row["current"]["train_clips_per_s"] / row["reference"]["train_clips_per_s"]
    assert "| baseline | 1 |" in "\n".join(speed_reference.format_comparison(comparison))


def test_the_speedup_is_each_side_at_its_best_thread_count_and_precision():
    from helpers.tools import speed_reference

    def side(train):
        return {"train_clips_per_s": train, "infer_clips_per_s": 10 * train, "all_train_clips_per_s": [train]}

    rows = [{"model": "stgcn", "threads": 1, "current": side(60.0), "current_bf16": side(95.0), "reference": side(50.0),
             "train_ratio": 1.2, "infer_ratio": 1.2, "train_ratio_bf16": 1.9, "infer_ratio_bf16": 1.9},
            {"model": "stgcn", "threads": 2, "current": side(90.0), "current_bf16": side(170.0), "reference": side(80.0),
             "train_ratio": 1.125, "infer_ratio": 1.125, "train_ratio_bf16": 2.125, "infer_ratio_bf16": 2.125}]
    comparison = {"ref": "old", "commit": "a" * 40, "rounds": 3, "rows": rows}
    ((name, current, reference),) = speed_reference.best_against_best(comparison)
    assert name == "stgcn" and current == {"clips_per_s": 170.0, "threads": 2, "side": "current_bf16"}
    assert reference == {"clips_per_s": 80.0, "threads": 2, "side": "reference"}
    text = "\n".join(speed_reference.format_comparison(comparison))
    assert "| stgcn | 2 | bfloat16 autocast | 80.0 | 170.0 | 2.12x |" in text
    assert "| stgcn | 1 | float32 | 50.0 | 60.0 | 1.20x |" in text and "2.12x the reference at its best" in text


def test_an_unknown_revision_is_a_user_error():
    from helpers.tools import speed_reference

    with pytest.raises(UserInputError, match="not a git revision"):
        with speed_reference.checkout("no-such-revision-here"):
            pass


def test_train_command_rows(five_class_path):
    from helpers.tools import speed_distributed

    params = {"dataset": str(five_class_path), "classes": [0, 1, 2, 3, 4]}
    one = speed_distributed.run_train_command(params, model="baseline")
    assert one["available"] and one["train_clips"] > 0 and is_number(one["epoch_clips_per_s"])
    torchrun = speed_distributed.run_train_command(params, model="baseline", processes=2)
    assert torchrun["available"] == speed_distributed.torchrun_available()
    if not torchrun["available"]:
        assert "no torchrun support" in torchrun["reason"]


def fake_models_run(name, params):
    """A stand-in for the 'models' measurement on a GPU: fixed rows, precision from params['amp']."""
    row = {"parameters": 10, "train_clips_per_s": 2500.0 if params["amp"] else 900.0, "batch_size": 256,
           "data_wait_share": 0.1, "infer_clips_per_s": 15000.0 if params["amp"] else 8000.0,
           "infer_batch_size": params["infer_batch"], "latency_ms": 1.0}
    assert name == "models" and params["device"] == "cuda" and params["train_batch"] == 256
    return {"models": {"stgcn": row}, "precision": "bfloat16" if params["amp"] else "float32",
            "environment": {"cuda": "Some GPU", "torch": "x", "python": "y", "cpu_count": 16}}


def test_gpu_rows_and_their_targets_are_reported():
    result = speed.run_gpu_benchmark("data.pkl", ["stgcn"], run=fake_models_run)
    assert set(result["gpu_models"]) == {"float32", "bfloat16"}
    targets = result["targets"]
    assert targets["gpu_stgcn_training"]["passed"] and targets["gpu_stgcn_training"]["value"] == 2500.0
    assert not targets["gpu_stgcn_inference"]["passed"]  # 15,000 < 20,000 clips/s at batch 256
    report = speed.format_gpu_report(result)
    assert "GPU (Some GPU), bfloat16" in report and "inference clips/s (batch 256)" in report and "FAIL" in report
