"""A run killed after epoch k and resumed ends as the uninterrupted run did, bit for bit (CPU, one thread)."""
import copy

import numpy as np
import pytest
import torch

from helpers.config import Config
from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.training.loop import train
from helpers.training.resume import config_differences
from helpers.training.run_folder import finished_config, load_val_probabilities
from helpers.transforms.clips import ClipDataset
from tests.conftest import make_tiny_dataset

TIMING = ("seconds", "data_wait_share")   # wall-clock columns: the only ones that may differ between runs


def resumable_config(epochs: int = 4) -> Config:
    """A recipe that draws on every random source a resume must restore: dropout (torch's global RNG),
    augmentation with random sampling, shuffling, a warm-up + cosine schedule and AdamW's moments."""
    config = Config()
    config.model.name, config.model.hidden_size, config.model.num_layers = "improved", 16, 1
    config.preprocess.length = 16
    config.augment.enabled, config.augment.rotate_degrees, config.augment.random_sampling = True, 15.0, True
    config.train.epochs, config.train.batch_size, config.train.lr = epochs, 8, 3e-3
    config.train.optimizer, config.train.schedule, config.train.warmup_epochs = "adamw", "cosine", 1
    config.train.num_threads = 1
    return config


def stop_before_epoch(monkeypatch, epoch: int) -> None:
    """Make training die as if killed once `epoch - 1` epochs are done (every file of those is written)."""
    set_epoch = ClipDataset.set_epoch

    def interrupted(self, number):
        if number == epoch:
            raise KeyboardInterrupt(f"killed before epoch {number}")
        set_epoch(self, number)

    monkeypatch.setattr(ClipDataset, "set_epoch", interrupted)


def without_timing(history):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in history]


def weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def dataset():
    return validate_dataset(make_tiny_dataset(groups=6), "mem")


def test_killed_after_epoch_2_and_resumed_ends_bit_identical(tmp_path, monkeypatch, dataset):
    config = resumable_config(epochs=4)
    full = train(copy.deepcopy(config), dataset, tmp_path / "full", verbose=False)

    with monkeypatch.context() as patch:
        stop_before_epoch(patch, 3)
        with pytest.raises(KeyboardInterrupt):
            train(copy.deepcopy(config), dataset, tmp_path / "cut", verbose=False)
    cut = tmp_path / "cut"
    assert torch.load(cut / "last.pt", weights_only=True)["epoch"] == 2
    assert finished_config(cut) is None and not (cut / "val_probabilities.npz").exists()

    epochs_run = []
    with monkeypatch.context() as patch:
        set_epoch = ClipDataset.set_epoch
        patch.setattr(ClipDataset, "set_epoch", lambda self, epoch: (epochs_run.append(epoch), set_epoch(self, epoch)))
        resumed = train(copy.deepcopy(config), dataset, cut, verbose=False, resume=True)
    assert epochs_run == [3, 4]                                        # continued, not started again
    assert without_timing(resumed) == without_timing(full)
    for name in ("last.pt", "best.pt"):
        for key, value in weights(tmp_path / "full" / name).items():
            assert torch.equal(value, weights(cut / name)[key]), (name, key)
    full_probabilities, labels = load_val_probabilities(tmp_path / "full")
    cut_probabilities, cut_labels = load_val_probabilities(cut)
    assert np.array_equal(full_probabilities, cut_probabilities) and np.array_equal(labels, cut_labels)
    assert finished_config(cut) is not None
    assert round(full[-1]["train_loss"], 4) == 1.2475                # a real value, pinned


def test_resume_refuses_another_config_and_names_the_fields(tmp_path, monkeypatch, dataset):
    config = resumable_config(epochs=3)
    with monkeypatch.context() as patch:
        stop_before_epoch(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            train(copy.deepcopy(config), dataset, tmp_path, verbose=False)
    other = copy.deepcopy(config)
    other.train.lr, other.model.dropout = 1e-3, 0.1
    with pytest.raises(UserInputError, match=r"last.pt: the config differs .*model.dropout: 0.4 -> 0.1; "
                                             r"train.lr: 0.003 -> 0.001"):
        train(other, dataset, tmp_path, verbose=False, resume=True)
    moved = copy.deepcopy(config)
    moved.train.num_threads, moved.train.device = 2, "cpu"             # where and how fast, not what is learned
    history = train(moved, dataset, tmp_path, verbose=False, resume=True)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    with pytest.raises(UserInputError, match="the run is finished .*nothing to resume"):
        train(moved, dataset, tmp_path, verbose=False, resume=True)
    with pytest.raises(UserInputError, match="last.pt: not found; nothing to resume"):
        train(moved, dataset, tmp_path / "empty", verbose=False, resume=True)


def test_config_differences_list_fields_outside_the_ones_that_may_differ():
    saved, current = Config().to_dict(), Config().to_dict()
    current["train"].update(epochs=7, device="cuda", num_workers=4)
    current["model"]["extra"] = {"stages": [[8, 1]]}
    assert config_differences(saved, current) == ["model.extra: {} -> {'stages': [[8, 1]]}", "train.epochs: 30 -> 7"]
