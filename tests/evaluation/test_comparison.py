import math

import numpy as np
import pandas as pd
import pytest

from helpers.config import Config
from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.evaluation import comparison
from helpers.training.checkpoint import load_checkpoint
from helpers.training.loop import train
from tests.conftest import make_tiny_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two seeds of two tiny LSTMs on the tiny dataset: model -> seed -> checkpoint."""
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    checkpoints = {}
    for name in ("baseline", "improved"):
        for seed in (0, 1):
            config = Config()
            config.model.name, config.model.hidden_size, config.model.num_layers = name, 16, 1
            config.preprocess.length, config.train.epochs, config.train.batch_size = 16, 2, 8
            config.train.seed = seed
            folder = tmp_path_factory.mktemp(f"{name}{seed}")
            train(config, dataset, folder, verbose=False)
            checkpoints.setdefault(name, {})[seed] = load_checkpoint(folder / "best.pt")
    return dataset, checkpoints


def scores_frame(rows):
    """seed_scores-shaped rows from (model, seed, correctness list)."""
    return pd.DataFrame([{"model": m, "seed": s, "clips": len(c), "accuracy": float(np.mean(c)),
                          "macro_f1": float(np.mean(c)), "correct": np.array(c, bool)} for m, s, c in rows])


def test_seed_scores_agree_with_evaluate_and_summarise(trained):
    dataset, checkpoints = trained
    scores = comparison.seed_scores(checkpoints, dataset, "test")
    assert list(zip(scores["model"], scores["seed"])) == [("baseline", 0), ("baseline", 1), ("improved", 0),
                                                          ("improved", 1)]
    for _, row in scores.iterrows():
        metrics = comparison.evaluate(checkpoints[row["model"]][row["seed"]], dataset, "test", verbose=False)
        assert row["accuracy"] == pytest.approx(metrics["accuracy"]) and row["macro_f1"] == pytest.approx(
            metrics["macro_f1"])
        assert row["correct"].tolist() == [p == t for p, t in zip(metrics["predictions"], metrics["labels"])]
        assert row["clips"] == metrics["num_clips"] == 18
    summary = comparison.seed_summary(scores)
    baseline = scores[scores["model"] == "baseline"]["accuracy"]
    assert summary.loc["baseline", "seeds"] == 2 and summary.loc["baseline", "clips"] == 18
    assert summary.loc["baseline", "accuracy"] == pytest.approx(baseline.mean())
    assert summary.loc["baseline", "accuracy_std"] == pytest.approx(np.std(baseline, ddof=1))


def test_accuracy_difference_counts_clip_and_seed_noise():
    scores = scores_frame([("a", 0, [1, 1, 1, 0]), ("a", 1, [1, 1, 0, 0]),
                           ("b", 0, [1, 0, 0, 0]), ("b", 1, [1, 0, 0, 0])])
    d = comparison.accuracy_difference(scores, "a", "b")
    per_clip = np.array([0.0, 1.0, 0.5, 0.0])                          # seed-averaged a minus b
    clip_error = per_clip.std(ddof=1) / 2
    seed_variance = np.var([0.75, 0.5], ddof=1) / 2 + 0.0              # b's two seeds agree
    assert d["difference"] == pytest.approx(0.375)
    assert d["standard_error"] == pytest.approx(math.sqrt(clip_error ** 2 + seed_variance))
    assert (d["clips"], d["seeds"]) == (4, 2)
    with pytest.raises(UserInputError, match="no scores for 'c'"):
        comparison.accuracy_difference(scores, "a", "c")


def test_verdicts_name_only_differences_beyond_twice_the_error():
    many = 200
    clear = [1] * 180 + [0] * 20                                       # 90 % against 50 %: clearly better
    scores = scores_frame([("base", 0, [1, 0] * 100), ("base", 1, [0, 1] * 100),
                           ("big", 0, clear), ("big", 1, clear),
                           ("close", 0, [1] * 104 + [0] * 96), ("close", 1, [1] * 100 + [0] * 100)])
    assert scores["clips"].eq(many).all()
    sentences = comparison.verdicts(scores, "base", "test")
    assert len(sentences) == 3                      # with the baseline, then ranking neighbours: big-close
    assert sentences[0].startswith("test: big - base = +40.0 points") and "big is better than base" in sentences[0]
    assert "no clear difference between close and base" in sentences[1]
    assert "big is better than close" in sentences[2] and "2 seeds" in sentences[2]
    one_seed = comparison.verdicts(scores[scores["seed"] == 0], "base", "fresh")
    assert "1 seed: the seed spread is not counted" in one_seed[0]


def test_table_in_percent_marks_the_best_model(trained, tmp_path):
    dataset, checkpoints = trained
    first = {name: seeds[0] for name, seeds in checkpoints.items()}
    scores = comparison.seed_scores(checkpoints, dataset, "test")
    table = comparison.comparison_table(first, scores, scores, {"baseline": 1.0}, baseline="baseline")
    assert list(table.index) == ["baseline", "improved"]
    assert table.loc["baseline", "accuracy_vs_baseline"] == 0.0
    summary = comparison.seed_summary(scores)
    assert table.loc["improved", "accuracy_vs_baseline"] == pytest.approx(
        summary.loc["improved", "accuracy"] - summary.loc["baseline", "accuracy"])
    assert table.loc["improved", "parameters"] > table.loc["baseline", "parameters"]
    assert np.isnan(table.loc["improved", "ms_per_clip"]) and table.loc["baseline", "seeds"] == 2
    best = comparison.best_model(table)
    assert best == table["fresh_macro_f1"].idxmax()
    shown = comparison.percent_table(table)
    assert list(shown.index) == [f"{name} {comparison.BEST_MARK}" if name == best else name for name in table.index]
    row = shown.iloc[0]
    accuracy = table.iloc[0]
    assert row["test accuracy % (18 clips)"] == f"{100 * accuracy['accuracy']:.1f} ± {100 * accuracy['accuracy_std']:.1f}"
    assert row["Δ accuracy (points)"] == "+0.0" and row["ms per clip"] == "1.00"
    saved = comparison.load_comparison(comparison.save_comparison(table, tmp_path / "c.json", split="test"))
    assert saved["split"] == "test" and saved["models"][1]["ms_per_clip"] is None
    again = comparison.percent_table(comparison.table_from_comparison(saved))
    assert again.equals(shown)                                         # the report shows what the notebook shows


def test_misclassified_takes_one_wrong_clip_per_true_class_with_every_models_prediction():
    names = ["A", "B", "C"]
    labels = [0, 0, 1, 1, 2, 2]
    results = {"first": {"class_names": names, "labels": labels, "frame_dirs": [f"c{i}" for i in range(6)],
                         "predictions": [0, 0, 1, 1, 2, 2]},
               "second": {"class_names": names, "labels": labels, "frame_dirs": [f"c{i}" for i in range(6)],
                          "predictions": [1, 2, 1, 0, 0, 2]}}
    wrong = comparison.misclassified(results, "second", limit=5)
    assert wrong.to_dict(orient="records") == [
        {"frame_dir": "c0", "true": "A", "first": "A", "second": "B"},      # c1 is also wrong, same class: left out
        {"frame_dir": "c3", "true": "B", "first": "B", "second": "A"},
        {"frame_dir": "c4", "true": "C", "first": "C", "second": "A"}]
    assert len(comparison.misclassified(results, "second", limit=2)) == 2
    assert comparison.misclassified(results, "first").empty


def test_figures_of_one_seed(trained):
    dataset, checkpoints = trained
    results = comparison.evaluate_models({name: seeds[0] for name, seeds in checkpoints.items()}, dataset, "test")
    assert comparison.per_class_f1(results).shape == (dataset.num_classes, 2)
    figure = comparison.plot_confusion_matrices({**results, "third": results["baseline"]}, columns=2)
    panels = [axis for axis in figure.axes if axis.get_title()]
    assert len(panels) == 3 and panels[0].get_title().startswith("baseline: accuracy ")
    assert [label.get_text() for label in panels[0].get_xticklabels()] == dataset.class_names
    bars = comparison.plot_per_class_f1(results)
    legend = bars.axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["baseline", "improved"]
    assert legend.get_bbox_to_anchor().y0 >= bars.axes[0].get_window_extent().y1 - 1   # above the bars
    wrong = comparison.misclassified(results, "improved", limit=2)
    comparison.plot_misclassified(dataset, wrong, "improved")


def test_latency_uses_the_checkpoint_input_shape(trained):
    _, checkpoints = trained
    first = {name: seeds[0] for name, seeds in checkpoints.items()}
    assert comparison.input_shape(first["baseline"]) == (2, 16, 17, 1)
    latencies = comparison.latencies_ms(first, repeats=2)
    assert set(latencies) == {"baseline", "improved"} and all(v > 0 for v in latencies.values())
