import csv

import pytest
import torch

from helpers.training.checkpoint import load_checkpoint
from helpers.config import Config
from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import clip_probabilities, evaluate, split_clips
from helpers.data.layouts import JHMDB15
from helpers.training.loop import lr_factor, train
from helpers.training.run_folder import load_val_probabilities
from tests.conftest import make_tiny_dataset


def tiny_config(model="baseline", epochs=3) -> Config:
    config = Config()
    config.model.name, config.model.hidden_size, config.model.num_layers = model, 32, 1
    config.preprocess.length = 24
    config.train.epochs, config.train.batch_size, config.train.lr = epochs, 8, 3e-3
    return config


def test_train_writes_run_folder_and_history(tmp_path, capsys):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    history = train(tiny_config("improved"), dataset, tmp_path)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    for key in ("train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "data_wait_share"):
        assert all(key in row for row in history)
    printed = capsys.readouterr().out
    assert "[Ep 001] train: loss=" in printed and "| val: loss=" in printed
    for name in ("best.pt", "last.pt", "history.csv", "config.yaml", "splits.json"):
        assert (tmp_path / name).is_file(), name
    rows = list(csv.DictReader((tmp_path / "history.csv").open()))
    assert len(rows) == 3 and float(rows[-1]["val_f1"]) == pytest.approx(history[-1]["val_f1"])
    best = load_checkpoint(tmp_path / "best.pt")
    best_epoch = max(history, key=lambda r: r["val_f1"])["epoch"]
    assert best.state["epoch"] == best_epoch
    assert best.class_names == dataset.class_names and best.layout.name == "coco17"


def test_val_probabilities_of_every_epoch_are_kept(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    config = tiny_config(epochs=3)
    config.augment.test_clips = 2                     # stored scores are the same multi-view average as evaluate's
    history = train(config, dataset, tmp_path, verbose=False)
    probabilities, labels = load_val_probabilities(tmp_path)
    last = load_checkpoint(tmp_path / "last.pt")
    val_clips = split_clips(dataset, last, "val")
    assert probabilities.shape == (3, len(val_clips), dataset.num_classes)
    assert labels.tolist() == [clip["label"] for clip in val_clips]
    assert probabilities[-1] == pytest.approx(clip_probabilities(last, val_clips), abs=1e-5)
    accuracies = (probabilities.argmax(-1) == labels).mean(axis=1)
    assert accuracies.tolist() == pytest.approx([row["val_acc"] for row in history])
    with pytest.raises(UserInputError, match="other.*val_probabilities.npz: not found"):
        load_val_probabilities(tmp_path / "other")
    config.data.val_fraction, config.train.epochs = 0.0, 1       # a run without validation clips, same folder
    train(config, dataset, tmp_path, verbose=False)
    assert not (tmp_path / "val_probabilities.npz").exists()      # no stale scores of the earlier run


def test_same_seed_same_history_and_learning_happens(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    first = train(tiny_config(epochs=12), dataset, tmp_path / "a", verbose=False)
    second = train(tiny_config(epochs=12), dataset, tmp_path / "b", verbose=False)
    assert [r["train_loss"] for r in first] == [r["train_loss"] for r in second]
    assert first[-1]["train_loss"] < 0.8 * first[0]["train_loss"]
    metrics = evaluate(load_checkpoint(tmp_path / "a" / "best.pt"), dataset, "test", verbose=False)
    assert metrics["accuracy"] > 0.5           # three classes: chance is 1/3


def test_checkpoint_refuses_other_layouts(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    train(tiny_config(epochs=1), dataset, tmp_path, verbose=False)
    checkpoint = load_checkpoint(tmp_path / "best.pt")
    with pytest.raises(UserInputError, match="jhmdb15 \\(15 joints\\).*coco17 \\(17 joints\\)"):
        checkpoint.check_fits("other.pkl", 15, JHMDB15.name)


def test_checkpoint_loads_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model_name": object()}, path)   # an arbitrary object needs full unpickling
    with pytest.raises(UserInputError, match="evil.pt: not a loadable checkpoint"):
        load_checkpoint(path)


def test_warmup_then_cosine_schedule():
    assert lr_factor(0, 100, 10, "cosine") == pytest.approx(0.1)
    assert lr_factor(9, 100, 10, "cosine") == pytest.approx(1.0)
    assert lr_factor(55, 100, 10, "cosine") == pytest.approx(0.5)
    assert lr_factor(99, 100, 10, "cosine") < 0.01
    assert lr_factor(50, 100, 0, "constant") == 1.0
