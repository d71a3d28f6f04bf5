"""Recipe comparison on several validation carve-outs: never reads test."""
import json

import numpy as np
import pytest

from helpers.config import load_config, parse_set, save_config
from helpers.tools import crossval
from helpers.cli import run_command
from helpers.training.checkpoint import load_checkpoint
from helpers.data.dataset import load_dataset, save_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import evaluate
from helpers.training.run_folder import finished_config
from helpers.transforms.clips import ClipDataset
from tests.conftest import make_tiny_dataset

RECIPE = ("preprocess: {{length: 16}}\ntrain: {{epochs: 1, batch_size: 8, num_threads: 1}}\n"
          "model: {{name: stgcn, streams: [{stream}], extra: {{stages: [[8, 1]]}}}}\ndata: {{path: {path}}}\n")


def test_each_carveout_trains_every_member_and_scores_only_validation(tmp_path):
    path = save_dataset(make_tiny_dataset(groups=8), tmp_path / "tiny.pkl")
    recipes = []
    for stream in ("joint", "bone"):
        recipes.append(tmp_path / f"{stream}.yaml")
        recipes[-1].write_text(RECIPE.format(stream=stream, path=path))
    argv = ["--recipe", str(recipes[0]), "--recipe", str(recipes[1]), "--carveouts", "0,3",
            "--set", "train.epochs=2", "--name", "cv", "--out", str(tmp_path / "out")]
    assert run_command(crossval.main, argv) == 0
    report = json.loads((tmp_path / "out" / "cv.json").read_text())
    assert [r["carveout"] for r in report["carveouts"]] == [0, 3]
    dataset = load_dataset(path)
    vals = []
    for carveout, scores in zip((0, 3), report["carveouts"]):
        members = [tmp_path / "out" / "cv" / f"carveout{carveout}" / f"member{i}" for i in (0, 1)]
        splits = json.loads((members[1] / "splits.json").read_text())
        assert f"seed {carveout}" in splits["protocol"]
        vals.append(set(splits["val"]))
        assert scores["last"]["num_clips"] == len(splits["val"])       # validation clips only, never test
        fused_last = evaluate([load_checkpoint(m / "last.pt") for m in members], dataset, "val", verbose=False)
        assert scores["last"]["accuracy"] == pytest.approx(fused_last["accuracy"])
        assert scores["last"]["epochs"] == [[2, 2]]
        assert len(scores["best"]["epochs"]) == 2                         # one choice per fold
    assert report["members"][1]["train"]["epochs"] == 2
    assert vals[0] != vals[1]                                 # the carve-outs differ
    accuracies = [r["last"]["accuracy"] for r in report["carveouts"]]
    assert report["summary"]["last"]["mean"] == pytest.approx(sum(accuracies) / 2)


def one_hot(classes: list[int], num_classes: int = 2) -> np.ndarray:
    return np.eye(num_classes)[classes]


def test_best_epoch_rule_chooses_on_the_other_half():
    labels = np.array([0, 0, 1, 1])
    first = crossval.stratified_halves(labels)
    assert first.sum() == 2 and sorted(labels[first]) == [0, 1]
    right, wrong = labels, 1 - labels
    # epoch 1 is right on the first half only, epoch 2 on the second half only
    epochs = np.stack([one_hot(np.where(first, right, wrong)), one_hot(np.where(first, wrong, right))])
    fused, chosen = crossval.rule_probabilities([epochs], labels, "best")
    assert chosen == [[2], [1]]                               # each half scored by the epoch the other half chose
    assert (fused.argmax(-1) == labels).mean() == 0.0         # a rule that peeked would get 0.5
    fused, chosen = crossval.rule_probabilities([epochs, epochs[::-1]], labels, "last")
    assert chosen == [[2, 2]] and fused == pytest.approx((epochs[1] + epochs[0]) / 2)


def test_reuse_scores_finished_runs_of_the_same_settings_and_retrains_changed_ones(tmp_path):
    path = save_dataset(make_tiny_dataset(groups=8), tmp_path / "tiny.pkl")
    recipe = tmp_path / "joint.yaml"
    recipe.write_text(RECIPE.format(stream="joint", path=path))
    base = ["--recipe", str(recipe), "--carveouts", "1", "--name", "cv", "--out", str(tmp_path / "out")]
    assert run_command(crossval.main, base) == 0
    probabilities = tmp_path / "out" / "cv" / "carveout1" / "member0" / "val_probabilities.npz"
    first = probabilities.stat().st_mtime_ns
    assert run_command(crossval.main, base + ["--reuse", "--set", "train.test_checkpoint=last"]) == 0
    assert probabilities.stat().st_mtime_ns == first          # same training settings: not trained again
    assert run_command(crossval.main, base + ["--reuse", "--set", "train.epochs=2"]) == 0
    assert probabilities.stat().st_mtime_ns != first          # another schedule: trained again
    report = json.loads((tmp_path / "out" / "cv.json").read_text())
    assert report["carveouts"][0]["last"]["epochs"] == [[2]]


def test_reuse_never_takes_a_folder_whose_config_is_newer_than_its_scores(tmp_path, monkeypatch):
    path = save_dataset(make_tiny_dataset(groups=8), tmp_path / "tiny.pkl")
    recipe = tmp_path / "joint.yaml"
    recipe.write_text(RECIPE.format(stream="joint", path=path))
    base = ["--recipe", str(recipe), "--carveouts", "1", "--name", "cv", "--out", str(tmp_path / "out")]
    assert run_command(crossval.main, base) == 0                  # a finished 1-epoch run
    member = tmp_path / "out" / "cv" / "carveout1" / "member0"
    two_epochs = load_config(member / "config.yaml")
    two_epochs.train.epochs = 2
    save_config(two_epochs, member / "config.yaml")               # a newer config beside the 1-epoch scores
    assert run_command(crossval.main, base + ["--reuse", "--set", "train.epochs=2"]) == 0
    report = json.loads((tmp_path / "out" / "cv.json").read_text())
    assert report["carveouts"][0]["last"]["epochs"] == [[2]]      # trained again, not scored from the old file

    set_epoch = ClipDataset.set_epoch

    def killed_before_epoch_2(self, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        set_epoch(self, epoch)

    monkeypatch.setattr(ClipDataset, "set_epoch", killed_before_epoch_2)   # a 3-epoch run killed after epoch 1
    assert run_command(crossval.main, base + ["--set", "train.epochs=3"]) == 130
    monkeypatch.setattr(ClipDataset, "set_epoch", set_epoch)
    assert finished_config(member) is None
    assert run_command(crossval.main, base + ["--reuse", "--set", "train.epochs=3"]) == 0
    report = json.loads((tmp_path / "out" / "cv.json").read_text())
    assert report["carveouts"][0]["last"]["epochs"] == [[3]]
