"""Recipe comparison on several validation carve-outs: never reads test."""
import json

import pytest

from helpers import crossval
from helpers.cli import run_command
from helpers.dataset import save_dataset
from helpers.errors import UserInputError
from tests.conftest import make_tiny_dataset

RECIPE = ("preprocess: {{length: 16}}\ntrain: {{epochs: 1, batch_size: 8, num_threads: 1}}\n"
          "model: {{name: stgcn, streams: [{stream}], extra: {{stages: [[8, 1]]}}}}\ndata: {{path: {path}}}\n")


def test_each_carveout_trains_every_member_and_scores_only_validation(tmp_path, monkeypatch):
    path = save_dataset(make_tiny_dataset(groups=8), tmp_path / "tiny.pkl")
    recipes = []
    for stream in ("joint", "bone"):
        recipes.append(tmp_path / f"{stream}.yaml")
        recipes[-1].write_text(RECIPE.format(stream=stream, path=path))
    splits_scored = []
    real_evaluate = crossval.evaluate

    def recording_evaluate(checkpoint, dataset, split="test", out_dir=None, verbose=True):
        splits_scored.append(split)
        return real_evaluate(checkpoint, dataset, split, out_dir, verbose)

    monkeypatch.setattr(crossval, "evaluate", recording_evaluate)
    argv = ["--config", str(recipes[0]), "--config", str(recipes[1]), "--carveouts", "0,3",
            "--set", "train.epochs=2", "--name", "cv", "--out", str(tmp_path / "out")]
    assert run_command(crossval.main, argv) == 0
    assert splits_scored == ["val"] * 4                      # last and best, two carve-outs; never test
    report = json.loads((tmp_path / "out" / "cv.json").read_text())
    assert [r["carveout"] for r in report["carveouts"]] == [0, 3]
    vals = []
    for carveout in (0, 3):
        member = tmp_path / "out" / "cv" / f"carveout{carveout}" / "member1"
        splits = json.loads((member / "splits.json").read_text())
        assert f"seed {carveout}" in splits["protocol"]
        vals.append(set(splits["val"]))
        assert report["members"][1]["train"]["epochs"] == 2
    assert vals[0] != vals[1]                                 # the carve-outs differ
    accuracies = [r["last"]["accuracy"] for r in report["carveouts"]]
    assert report["summary"]["last"]["mean"] == pytest.approx(sum(accuracies) / 2)


def test_settings_are_parsed_and_checked():
    assert crossval.parse_settings(["train.epochs=40", "augment.rotate_degrees=20.5", "model.streams=[joint]"]) \
        == {"train": {"epochs": 40}, "augment": {"rotate_degrees": 20.5}, "model": {"streams": ["joint"]}}
    with pytest.raises(UserInputError, match="section.field=value"):
        crossval.parse_settings(["epochs=40"])
