import json

import pytest

from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.notebook import (CONFIG_ENV, SERIES_MODELS, SMOKE_EPOCHS, SeriesSettings, series_dir, shrink_dataset)
from tests.conftest import make_tiny_dataset


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_ACTIONS_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    return tmp_path / "runs"


def test_default_config_and_folders(runs, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    full = SeriesSettings.from_env()
    assert full.config_path.name == "synthetic.yaml" and not full.smoke and full.out_dir == runs / "series"
    assert SeriesSettings.from_env(True).out_dir == runs / "series_smoke" == series_dir(True)
    monkeypatch.setenv("CI", "true")
    assert SeriesSettings.from_env().smoke


def test_one_setting_switches_the_config(runs, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, "configs/ucf101_5cls.yaml")
    series = SeriesSettings.from_env(False)
    assert series.config_path.name == "ucf101_5cls.yaml"
    assert series.config("baseline").data.classes == [0, 1, 2, 3, 4]
    monkeypatch.setenv(CONFIG_ENV, "configs/no_such.yaml")
    with pytest.raises(UserInputError, match="no_such.yaml: config file not found"):
        SeriesSettings.from_env(False)


def test_model_configs_follow_the_series_list(runs):
    series, smoke = SeriesSettings.from_env(False), SeriesSettings.from_env(True)
    assert series.models == list(SERIES_MODELS) and series.baseline == "baseline"
    assert series.later_models == list(SERIES_MODELS)[1:]
    for run in series.models:
        config = series.config(run)
        assert config.model.name == run          # the series' run names are the model names
        assert series.run_dir(run) == runs / "series" / run
        assert config.train.epochs > SMOKE_EPOCHS
        assert smoke.config(run).train.epochs == SMOKE_EPOCHS
    stgcn = series.config("stgcn")               # a recipe file replaces the training settings
    assert stgcn.train.optimizer == "sgd" and stgcn.augment.enabled and stgcn.data == series.config("baseline").data
    changes = series.changes_from_baseline("improved")
    assert changes["model.name"] == "'baseline' -> 'improved'" and changes["augment.enabled"] == "False -> True"
    assert not any(key.startswith("data.") for key in changes)
    with pytest.raises(UserInputError, match="unknown series model 'nope'"):
        series.config("nope")


def test_shrink_keeps_the_first_clips_of_each_class_per_split():
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    small = shrink_dataset(dataset, 2)
    for name, members in small.split.items():
        labels = [small.clip(i)["label"] for i in members]
        assert all(labels.count(label) == 2 for label in set(labels))
        assert members == [i for i in dataset.split[name] if i in members]
    assert len(small.annotations) == 3 * 2 * 2
    assert shrink_dataset(dataset, 1000).split == dataset.split


def test_saved_split_is_checked(runs, capsys):
    series = SeriesSettings.from_env(False)
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    with pytest.raises(UserInputError, match="run notebook 01_data_splitting first"):
        series.check_saved_splits(dataset)
    series.save_splits(series.make_splits(dataset))
    assert series.check_saved_splits(dataset).train
    assert "Same split as notebook 01" in capsys.readouterr().out
    saved = json.loads(series.splits_path.read_text())
    saved["val"] = saved["val"][1:]
    series.splits_path.write_text(json.dumps(saved))
    with pytest.raises(UserInputError, match="the val split differs"):
        series.check_saved_splits(dataset)
