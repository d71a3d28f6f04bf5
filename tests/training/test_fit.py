"""Fitting a classical model through train(): the run folder of a neural run, a pinned seeded result."""
import csv

import numpy as np
import pytest

from helpers.config import Config
from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import evaluate
from helpers.training.checkpoint import load_checkpoint
from helpers.training.loop import train
from helpers.training.run_folder import load_val_probabilities
from tests.conftest import make_tiny_dataset


def classical_config(estimator="random_forest", copies=2) -> Config:
    config = Config()
    config.preprocess.length, config.preprocess.sampling = 16, "uniform"
    config.augment.enabled, config.augment.rotate_degrees, config.augment.random_sampling = True, 10.0, True
    config.model.name = "classical"
    config.model.extra = {"estimator": estimator, "trees": 25, "copies": copies}
    return config


def test_fit_writes_the_run_folder_of_a_neural_run_and_pins_its_scores(tmp_path, capsys):
    dataset = validate_dataset(make_tiny_dataset(groups=8), "mem")
    history = train(classical_config(), dataset, tmp_path)
    assert len(history) == 1 and history[0]["epoch"] == 1
    assert "Model classical (random_forest): fitted on" in capsys.readouterr().out
    for name in ("best.pt", "last.pt", "history.csv", "config.yaml", "splits.json", "val_probabilities.npz"):
        assert (tmp_path / name).is_file(), name
    assert len(list(csv.DictReader((tmp_path / "history.csv").open()))) == 1
    probabilities, labels = load_val_probabilities(tmp_path)
    assert probabilities.shape == (1, len(labels), 3)
    # seeded (train.seed 0, 25 trees): the forest's validation log loss and test accuracy
    assert round(history[0]["val_loss"], 4) == 0.4559 and history[0]["train_acc"] == 1.0
    metrics = evaluate(load_checkpoint(tmp_path / "last.pt"), dataset, "test", verbose=False)
    assert round(metrics["accuracy"], 3) == 0.889
    assert train(classical_config(), dataset, tmp_path / "again", verbose=False)[0]["val_loss"] == \
        history[0]["val_loss"]


def test_copies_need_augmentation(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(groups=6), "mem")
    config = classical_config()
    config.augment.enabled = False
    with pytest.raises(UserInputError, match="copies > 1 needs augment.enabled"):
        train(config, dataset, tmp_path, verbose=False)


def test_classical_and_neural_checkpoints_fuse_late(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(groups=8), "mem")
    train(classical_config("logistic", copies=1), dataset, tmp_path / "classical", verbose=False)
    neural = Config()
    neural.preprocess.length, neural.model.hidden_size, neural.model.num_layers = 16, 16, 1
    neural.train.epochs = 1
    train(neural, dataset, tmp_path / "lstm", verbose=False)
    members = [load_checkpoint(tmp_path / name / "last.pt") for name in ("classical", "lstm")]
    fused = evaluate(members, dataset, "test", verbose=False)
    assert fused["model"] == "classical+baseline" and 0.0 <= fused["accuracy"] <= 1.0
    assert np.isfinite(fused["macro_f1"])
