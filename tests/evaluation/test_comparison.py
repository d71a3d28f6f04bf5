import numpy as np
import pytest

from helpers.evaluation import comparison
from helpers.training.checkpoint import load_checkpoint
from helpers.config import Config
from helpers.data.dataset import validate_dataset
from helpers.training.loop import train
from tests.conftest import make_tiny_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    checkpoints = {}
    for name in ("baseline", "improved"):
        config = Config()
        config.model.name, config.model.hidden_size, config.model.num_layers = name, 16, 1
        config.preprocess.length, config.train.epochs, config.train.batch_size = 16, 2, 8
        folder = tmp_path_factory.mktemp(name)
        train(config, dataset, folder, verbose=False)
        checkpoints[name] = load_checkpoint(folder / "best.pt")
    return dataset, checkpoints


def test_table_differences_and_saved_json(trained, tmp_path):
    dataset, checkpoints = trained
    results = comparison.evaluate_models(checkpoints, dataset, "test")
    table = comparison.comparison_table(results, checkpoints, {"baseline": 1.0}, baseline="baseline")
    assert list(table.index) == ["baseline", "improved"]
    assert table.loc["baseline", "accuracy_vs_baseline"] == 0.0
    assert table.loc["improved", "macro_f1_vs_baseline"] == pytest.approx(
        results["improved"]["macro_f1"] - results["baseline"]["macro_f1"])
    assert table.loc["improved", "parameters"] > table.loc["baseline", "parameters"]
    assert np.isnan(table.loc["improved", "ms_per_clip"])
    saved = comparison.load_comparison(comparison.save_comparison(table, tmp_path / "c.json", split="test"))
    assert saved["split"] == "test" and saved["models"][1]["ms_per_clip"] is None


def test_misclassified_lists_every_models_prediction(trained):
    dataset, checkpoints = trained
    results = comparison.evaluate_models(checkpoints, dataset, "test")
    wrong = comparison.misclassified(results, "improved", limit=2)
    assert list(wrong.columns) == ["frame_dir", "true", "baseline", "improved"]
    assert len(wrong) <= 2 and all(wrong["true"] != wrong["improved"])
    comparison.plot_misclassified(dataset, wrong, "improved")
    assert comparison.per_class_f1(results).shape == (dataset.num_classes, 2)


def test_latency_uses_the_checkpoint_input_shape(trained):
    _, checkpoints = trained
    assert comparison.input_shape(checkpoints["baseline"]) == (2, 16, 17, 1)
    latencies = comparison.latencies_ms(checkpoints, repeats=2)
    assert set(latencies) == {"baseline", "improved"} and all(v > 0 for v in latencies.values())
