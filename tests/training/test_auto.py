"""--recipe auto: K-fold inside the training split, late fusions, the winner trained and saved with its choice."""
import json

import numpy as np
import pytest
import torch

from helpers.config import Config
from helpers.data.dataset import save_dataset, validate_dataset
from helpers.errors import UserInputError
from helpers.training import auto
from tests.conftest import make_tiny_dataset
from tests.training.test_fit import classical_config


def candidates() -> dict[str, Config]:
    lstm = Config()
    lstm.preprocess.length, lstm.model.hidden_size, lstm.model.num_layers = 16, 16, 1
    lstm.train.epochs, lstm.train.batch_size = 2, 8
    return {"logistic": classical_config("logistic", copies=1), "forest": classical_config(), "lstm": lstm}


def test_auto_cross_validates_inside_train_only_and_pins_its_choice(tmp_path, monkeypatch):
    dataset = validate_dataset(make_tiny_dataset(groups=9), "mem")     # train1: groups g04-g09, 36 clips
    test_ids = set(dataset.split["test1"])
    read = []
    real_clip = auto.clip_probabilities
    monkeypatch.setattr(auto, "clip_probabilities",
                        lambda c, clips, device: read.extend(x["frame_dir"] for x in clips) or real_clip(c, clips, device))
    choice = auto.choose_recipe(candidates(), dataset, tmp_path / "cv", folds=3, verbose=False)
    assert sorted(read) == sorted(dataset.split["train1"] * 3)       # each train clip once per candidate, test never
    entries = {row["entry"]: row for row in choice["table"]}
    assert len(entries) == 3 + 3 + 1                                   # singles, pairs, the triple
    assert all(len(row["fold_accuracies"]) == 3 for row in entries.values())
    fused = entries["logistic+forest"]
    assert fused["mean_accuracy"] == pytest.approx(np.mean(fused["fold_accuracies"]))
    # seeded: the pinned winner and its 3-fold accuracy; logistic+forest ties with it and trains longer
    assert choice["chosen"] == "forest" and round(choice["mean_accuracy"], 3) == 0.806
    assert round(entries["logistic+forest"]["mean_accuracy"], 3) == 0.806
    assert round(entries["lstm"]["mean_accuracy"], 3) == 0.333 and "<- chosen" in choice["text"]
    with np.load(tmp_path / "cv" / "forest" / "out_of_fold.npz") as saved:
        assert list(saved["clip_ids"]) == dataset.split["train1"] and saved["probabilities"].shape == (36, 3)
        assert sorted(set(saved["fold"])) == [0, 1, 2] and list(saved["labels"]) == \
            [dataset.clip(i)["label"] for i in dataset.split["train1"]]
    # scored again from the finished fold runs: nothing trains, the same table comes out
    monkeypatch.setattr(auto, "train", lambda *a, **k: pytest.fail("a finished fold was trained again"))
    again = auto.choose_recipe(candidates(), dataset, tmp_path / "cv", folds=3, verbose=False, reuse=True)
    assert [(r["entry"], r["mean_accuracy"]) for r in again["table"]] == \
        [(r["entry"], r["mean_accuracy"]) for r in choice["table"]]
    # test-time views change no weight: a reused run is scored with the new ones, still without training
    with np.load(tmp_path / "cv" / "lstm" / "out_of_fold.npz") as saved:
        plain = saved["probabilities"]
    mirrored = candidates()
    mirrored["lstm"].augment.test_flip, mirrored["lstm"].augment.test_clips = True, 2
    auto.choose_recipe(mirrored, dataset, tmp_path / "cv", folds=3, verbose=False, reuse=True)
    with np.load(tmp_path / "cv" / "lstm" / "out_of_fold.npz") as saved:
        assert saved["probabilities"].shape == plain.shape and not np.allclose(saved["probabilities"], plain)
    for name in ("logistic", "forest", "lstm"):
        splits = json.loads((tmp_path / "cv" / name / "fold1" / "splits.json").read_text())
        assert not (set(splits["train"]) | set(splits["test"])) & test_ids and splits["val"] == []


def test_the_winner_trains_on_the_whole_split_and_keeps_its_choice(tmp_path, monkeypatch):
    dataset = validate_dataset(make_tiny_dataset(groups=8), "mem")
    configs = candidates()
    choice = {"chosen": "logistic+forest", "members": ["logistic", "forest"], "mean_accuracy": 0.9}
    paths = auto.train_choice(choice, configs, dataset, tmp_path, verbose=False)
    assert paths == [tmp_path / "logistic" / "last.pt", tmp_path / "forest" / "last.pt"]
    for path in paths:
        state = torch.load(path, weights_only=True)
        assert state["recipe_choice"]["chosen"] == "logistic+forest"
        splits = json.loads((path.parent / "splits.json").read_text())
        assert sorted(splits["train"]) == sorted(dataset.split["train1"]) and splits["val"] == []
    assert json.loads((tmp_path / "choice.json").read_text())["checkpoints"] == [str(p) for p in paths]
    monkeypatch.setattr(auto, "train", lambda *a, **k: pytest.fail("a finished member was trained again"))
    assert auto.train_choice(choice, configs, dataset, tmp_path, verbose=False, reuse=True) == paths


def test_budget_drops_candidates_and_nothing_left_is_an_error(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(groups=8), "mem")
    with pytest.raises(UserInputError, match="no candidate finished"):
        auto.choose_recipe(candidates(), dataset, tmp_path, folds=3, budget_seconds=0.0, verbose=False)
    rows = auto.score_entries({"a": {"status": "dropped: ...", "fold_seconds": [1.0], "probabilities": None}},
                              np.zeros(3, int), np.zeros(3, int), 3, 3)
    assert rows == []


def test_ties_go_to_the_shorter_training():
    rows = [{"entry": "slow", "mean_accuracy": 0.900, "estimated_train_seconds": 100.0},
            {"entry": "fast", "mean_accuracy": 0.897, "estimated_train_seconds": 5.0},
            {"entry": "worse", "mean_accuracy": 0.880, "estimated_train_seconds": 1.0}]
    assert auto.pick(rows)["entry"] == "fast"


def test_command_runs_auto_and_prints_the_table(tmp_path, capsys):
    from helpers import train as train_command
    from helpers.cli import run_command

    path = save_dataset(make_tiny_dataset(groups=8), tmp_path / "tiny.pkl")
    recipe = tmp_path / "fast_logistic.yaml"
    recipe.write_text("preprocess: {length: 16, sampling: uniform}\nmodel: {name: classical, extra: "
                      "{estimator: logistic}}\n")
    argv = ["--data", str(path), "--recipe", "auto", "--candidates", f"{recipe}", "--folds", "2",
            "--out", str(tmp_path / "auto")]
    assert run_command(train_command.main, argv) == 0
    printed = capsys.readouterr().out
    assert "2-fold cross-validation inside train1" in printed and "fast_logistic" in printed and "<- chosen" in printed
    assert (tmp_path / "auto" / "fast_logistic" / "last.pt").is_file()
    assert run_command(train_command.main, argv[:-2] + ["--folds", "1"]) == 2
