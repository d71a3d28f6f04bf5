import csv
import json

import pytest
import torch

from helpers.data.dataset import validate_dataset
from helpers.data.splits import group_of
from helpers.errors import UserInputError
from helpers.notebook import (CONFIG_ENV, SEED_COUNTS, SERIES_DEVICE, SERIES_MODELS, SERIES_SEEDS, SERIES_THREADS,
                              SMOKE_EPOCHS, SeriesSettings, fresh_synthetic_test, series_dir, shrink_dataset, smoke_run)
from tests.conftest import make_tiny_dataset


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_ACTIONS_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    return tmp_path / "runs"


@pytest.fixture
def torch_state():
    """Restore torch's thread count and deterministic flag that the series sets for its runs."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


def test_smoke_run_is_the_CI_variable_unless_it_says_no():
    assert smoke_run({"CI": "true"}) and smoke_run({"CI": "1"}) and smoke_run({"CI": "yes"})
    for value in ("", "0", "false", "False", "no"):
        assert not smoke_run({"CI": value}), value
    assert not smoke_run({})


def test_default_config_and_folders(runs, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    full = SeriesSettings.from_env()
    assert full.config_path.name == "synthetic.yaml" and not full.smoke and full.out_dir == runs / "series"
    assert full.seeds == list(SERIES_SEEDS) and len(full.seeds) >= 3
    smoke = SeriesSettings.from_env(True)
    assert smoke.out_dir == runs / "series_smoke" == series_dir(True) and smoke.seeds == [SERIES_SEEDS[0]]
    monkeypatch.setenv("CI", "true")
    assert SeriesSettings.from_env().smoke
    monkeypatch.setenv("CI", "false")
    assert not SeriesSettings.from_env().smoke


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
        assert (config.train.seed, config.train.num_threads, config.train.device) == (0, SERIES_THREADS, SERIES_DEVICE)
        assert series.config(run, seed=2).train.seed == 2
        assert series.run_dir(run) == series.run_dir(run, 0) == runs / "series" / run
        assert series.run_dir(run, 2) == runs / "series" / f"{run}_seed2"
        assert series.seeds_of(run) == list(SERIES_SEEDS[:SEED_COUNTS.get(run, len(SERIES_SEEDS))])
        assert smoke.seeds_of(run) == [0]
        assert config.train.epochs > SMOKE_EPOCHS
        assert smoke.config(run).train.epochs == SMOKE_EPOCHS
    assert series.seeds_of("baseline") == [0, 1, 2] and series.seeds_of("stgcn") == [0]
    stgcn = series.config("stgcn")               # a recipe file replaces the training settings
    assert stgcn.train.optimizer == "sgd" and stgcn.augment.enabled and stgcn.data == series.config("baseline").data
    changes = series.changes_from_baseline("improved")
    assert changes["model.name"] == "'baseline' -> 'improved'" and changes["augment.enabled"] == "False -> True"
    assert not any(key.startswith("data.") for key in changes)
    table = series.changes_table()
    assert list(table.columns) == series.models
    assert table.loc["model.name"].tolist() == ["'baseline'", "'improved'", "'stgcn'", "'ddnet'", "'classical'"]
    assert table.loc["train.optimizer"].tolist() == ["'adam'", "", "'sgd'", "", ""]   # blank: as the baseline
    assert "data.path" not in table.index and "train.seed" not in table.index
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


def test_fresh_synthetic_test_is_new_clips_of_the_same_classes(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_ACTIONS_DATA", str(tmp_path / "data"))
    fresh = fresh_synthetic_test(1)
    ids = [clip["frame_dir"] for clip in fresh.annotations]
    assert fresh.split["train1"] == [] and fresh.split["test1"] == ids and len(set(ids)) == len(ids) > 300
    assert {int(group_of(i)[1:]) for i in ids} == set(range(26, 51))   # draw 1's groups; the series' are 1..25
    series = SeriesSettings.from_env(True)
    default = series.load_dataset(verbose=False)
    assert fresh.class_names == default.class_names and fresh.layout == default.layout
    assert len(series.fresh_test_set(default).annotations) == 10 * default.num_classes   # smoke: a few per class
    assert series.fresh_test_set(validate_dataset(make_tiny_dataset(), "mem.pkl")) is None   # only for the built-in data


def test_series_training_is_quiet_fixed_and_logged(runs, capsys, torch_state):
    series = SeriesSettings.from_env(True)            # one epoch
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    torch.set_num_threads(1)
    history = series.train("baseline", dataset)
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("baseline, seed 0: 1 epoch in ")
    assert printed[0].endswith(f"log {series.run_dir('baseline') / 'train.log'}")
    assert torch.get_num_threads() == SERIES_THREADS and torch.are_deterministic_algorithms_enabled()
    log = (series.run_dir("baseline") / "train.log").read_text()
    assert "[Ep 001] train: loss=" in log and "Best epoch 1" in log
    rows = list(csv.DictReader((series.run_dir("baseline") / "history.csv").open()))
    assert float(rows[0]["train_loss"]) == pytest.approx(history[0]["train_loss"])
    assert series.history("baseline")[0]["epoch"] == 1
    assert series.load_checkpoint("baseline", 0).config.train.num_threads == SERIES_THREADS
    with pytest.raises(UserInputError, match="improved/best.pt: not found; train 'improved' first"):
        series.load_seed_checkpoints()
