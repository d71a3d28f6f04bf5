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
        result = speed.run_benchmark(five_class_path, quick=True, models=["baseline"], threads=1, run=in_process)
    finally:
        torch.set_num_threads(threads)
    result = json.loads(json.dumps(result))  # what speed.json holds

    assert result["dataset"]["clips"] == 30 and result["dataset"]["subset_classes"] == [0, 1, 2, 3, 4]
    for step in ("unpickle", "cache_build", "warm_load"):
        for key in ("seconds", "cpu_seconds", "peak_rss_mb"):
            assert is_number(result[step][key]), (step, key)
    for run in ("subset_run", "subset_run_uncached"):
        for key in ("peak_rss_mb", "rss_python_mb", "rss_after_torch_mb", "rss_after_imports_mb",
                    "peak_after_imports_mb", "rss_after_open_mb"):
            assert is_number(result[run][key]), (run, key)
        for name in speed.LSTMS:
            assert 0 <= result[run]["runs"][name]["data_wait_share"] <= 1
    baseline = result["models"]["baseline"]
    for key in ("parameters", "train_clips_per_s", "data_wait_share", "infer_clips_per_s", "latency_ms"):
        assert is_number(baseline[key]) and baseline[key] >= 0, key
    assert set(result["targets"]) == set(speed.TARGETS)
    checks = {">=": lambda v, g: v >= g, "<=": lambda v, g: v <= g, "<": lambda v, g: v < g}
    for name, target in result["targets"].items():
        assert is_number(target["value"]) and is_number(target["goal"]), name
        assert target["passed"] is checks[target["comparison"]](target["value"], target["goal"]), name
    warm = result["targets"]["warm_speedup"]
    assert warm["value"] == result["unpickle"]["seconds"] / result["warm_load"]["seconds"]
    assert (warm["goal"], warm["comparison"]) == (20.0, ">=")
    memory = result["targets"]["subset_rss_share"]  # the literal target, with both references beside it
    assert memory["value"] == result["subset_run"]["peak_rss_mb"] / result["unpickle"]["peak_rss_mb"]
    uncached = result["subset_run_uncached"]["peak_rss_mb"]
    assert memory["uncached_value"] == result["subset_run"]["peak_rss_mb"] / uncached
    assert is_number(memory["import_floor_mb"]) and is_number(memory["floor_share"])
    machine = result["machine"]
    assert is_number(machine["cpu_count"]) and machine["torch_threads"] == 1
    assert machine["torch"] and machine["numpy"] and machine["python"] and len(machine["load_average_before"]) == 3

    report = speed.format_report(result)
    assert f"| baseline | {baseline['parameters']:,} |" in report
    for target in result["targets"].values():   # each target's row ends with its own verdict
        row = next(line for line in report.splitlines() if line.startswith(f"| {target['description']} |"))
        assert row.endswith("| PASS |" if target["passed"] else "| FAIL |"), row
    assert "(a) unpickling the full file alone" in report and "(b) the same five-class run without the cache" in report
    assert "import floor" in report


def test_a_measurement_runs_in_its_own_process(five_class_path):
    speed.run_isolated("cache_build", {"dataset": str(five_class_path)})
    result = speed.run_isolated("warm_load", {"dataset": str(five_class_path)})
    assert result["clips"] == 30
    assert is_number(result["seconds"]) and 0 < result["peak_rss_mb"] < 1000  # no torch in this child


def test_missing_dataset_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        speed.main(["--dataset", str(tmp_path / "nope.pkl"), "--out", str(tmp_path)])
