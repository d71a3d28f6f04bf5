import csv
import json

import pytest
import torch

from helpers import train as train_command
from helpers.cli import run_command
from helpers.training.checkpoint import load_checkpoint
from helpers.config import Config, load_config
from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import clip_probabilities, evaluate, split_clips
from helpers.data.layouts import JHMDB15
from helpers.training.loop import lr_factor, train
from helpers.training.run_folder import config_hash, load_val_probabilities
from helpers.transforms.clips import ClipDataset
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


def test_a_seed_offset_trains_as_the_offset_seed_would(tmp_path):
    """train.seed_offset makes a second member of one recipe (a seed ensemble): seed 0 + offset 5 draws what
    seed 5 draws, and not what seed 0 draws."""
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    runs = {}
    for name, seed, offset in (("plain", 0, 0), ("offset", 0, 5), ("seed5", 5, 0)):
        config = tiny_config(epochs=2)
        config.augment.enabled = True
        config.train.seed, config.train.seed_offset = seed, offset
        runs[name] = [row["train_loss"] for row in train(config, dataset, tmp_path / name, verbose=False)]
    assert runs["offset"] == runs["seed5"]
    assert runs["offset"] != runs["plain"]
    assert load_config(tmp_path / "offset" / "config.yaml").train.seed_offset == 5


def test_checkpoint_refuses_other_layouts(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    train(tiny_config(epochs=1), dataset, tmp_path, verbose=False)
    checkpoint = load_checkpoint(tmp_path / "best.pt")
    with pytest.raises(UserInputError, match="jhmdb15 \\(15 joints\\).*coco17 \\(17 joints\\)"):
        checkpoint.check_fits("other.pkl", 15, JHMDB15.name)


def test_checkpoint_loads_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model_name": object()}, path)   # an arbitrary object needs full unpickling
    with pytest.raises(UserInputError, match="evil.pt: refused to load checkpoint: it references 'object'") as error:
        load_checkpoint(path)
    assert "weights_only" not in str(error.value) and "\x1b" not in str(error.value)  # torch's advice not passed on


def test_warmup_then_cosine_schedule():
    assert lr_factor(0, 100, 10, "cosine") == pytest.approx(0.1)
    assert lr_factor(9, 100, 10, "cosine") == pytest.approx(1.0)
    assert lr_factor(55, 100, 10, "cosine") == pytest.approx(0.5)
    assert lr_factor(99, 100, 10, "cosine") < 0.01
    assert lr_factor(50, 100, 0, "constant") == 1.0


def test_non_finite_loss_stops_with_the_epoch_and_batch_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    set_epoch = ClipDataset.set_epoch

    def poisoned(self, epoch):   # epoch 3's inputs are NaN: its first batch gives a NaN loss
        set_epoch(self, epoch)
        if epoch == 3:
            self.inputs = torch.full_like(self.inputs, float("nan"))

    monkeypatch.setattr(ClipDataset, "set_epoch", poisoned)
    with pytest.raises(UserInputError, match=r"the training loss is nan at epoch 3, batch 1; training stopped and "
                                             r".*last.pt keeps epoch 2"):
        train(tiny_config(epochs=4), dataset, tmp_path, verbose=False)
    last = load_checkpoint(tmp_path / "last.pt")
    assert last.state["epoch"] == 2
    assert all(torch.isfinite(value).all() for value in last.state["state_dict"].values())
    assert not (tmp_path / "run.json").exists()                       # not a finished run


def test_run_json_is_written_last_with_the_config_hash(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    config = tiny_config(epochs=1)
    train(config, dataset, tmp_path, verbose=False)
    marker = tmp_path / "run.json"
    assert all(marker.stat().st_mtime_ns >= path.stat().st_mtime_ns for path in tmp_path.iterdir())
    assert json.loads(marker.read_text())["config_sha256"] == config_hash(load_config(tmp_path / "config.yaml"))
    assert not (tmp_path / "val_probabilities.parts").exists()        # per-epoch parts are gathered into the .npz


def test_checkpoints_hold_cpu_tensors_only(tmp_path):
    """What makes a GPU-trained checkpoint load on a machine without one."""
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    train(tiny_config(epochs=1), dataset, tmp_path, verbose=False)
    for name in ("best.pt", "last.pt"):
        state = torch.load(tmp_path / name, weights_only=True)       # no map_location: devices as saved
        tensors = [value for value in _leaves(state) if isinstance(value, torch.Tensor)]
        assert tensors and all(tensor.device.type == "cpu" for tensor in tensors), name


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def test_a_run_with_dataloader_workers_is_reproducible(tmp_path):
    """Augmented clips are drawn from (seed, epoch, clip) and the order from the seeded generator, so worker
    processes repeat the run (its order differs from a run without workers: see docs/scaling.md)."""
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    runs = []
    for name in ("a", "b"):
        config = tiny_config(epochs=1)
        config.augment.enabled, config.augment.rotate_degrees = True, 20.0
        config.train.num_workers, config.train.num_threads = 2, 1
        runs.append(train(config, dataset, tmp_path / name, verbose=False)[0]["train_loss"])
    assert runs[0] == runs[1]


def test_train_command_refuses_a_missing_gpu_in_one_line(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    assert run_command(train_command.main, ["--device", "cuda", "--set", "train.epochs=1", "--out", str(tmp_path)]) == 2
    assert "train.device: 'cuda' asks for CUDA, but torch" in capsys.readouterr().err  # refused as the settings are read
    with pytest.raises(SystemExit):
        train_command.build_parser().parse_args(["--device", "gpu"])
    assert "'gpu' is not a device; use auto, cpu, cuda or cuda:N" in capsys.readouterr().err
