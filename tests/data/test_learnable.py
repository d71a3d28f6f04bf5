"""Data from which nothing can be learned is refused before training writes anything; doubtful data warned."""
import numpy as np
import pytest

from helpers.data.dataset import validate_dataset
from helpers.data.learnable import learnability_problems
from helpers.data.splits import make_splits
from helpers.errors import UserInputError
from helpers.training.loop import train
from tests.conftest import make_tiny_dataset
from tests.training.test_loop import tiny_config


def _problems(data):
    dataset = validate_dataset(data, "mem")
    return learnability_problems(dataset, make_splits(dataset))


def test_one_class_is_refused_before_anything_is_written(tmp_path):
    """One-class data once trained to F1 1.0 without a word."""
    data = make_tiny_dataset(num_classes=1)
    with pytest.raises(UserInputError, match=r"mem: cannot train: the data has one class \(Class0\)"):
        train(tiny_config(epochs=1), validate_dataset(data, "mem"), tmp_path / "run", verbose=False)
    assert not (tmp_path / "run").exists()
    data = make_tiny_dataset(num_classes=2)
    for clip in data["annotations"]:
        if clip["frame_dir"] in data["split"]["train1"]:
            clip["label"] = 0
    refuse, _ = _problems(data)
    assert refuse == ["every training clip is of one class (Class0): a classifier has nothing to tell apart"]


def test_keypoints_all_zero_are_refused_and_some_warned(tmp_path):
    """All-zero keypoints once trained without a word."""
    data = make_tiny_dataset()
    for clip in data["annotations"]:
        clip["keypoint"] = np.zeros_like(clip["keypoint"])
    with pytest.raises(UserInputError, match="none of the 30 training clips has a keypoint"):
        train(tiny_config(epochs=1), validate_dataset(data, "mem"), tmp_path / "run", verbose=False)
    assert not (tmp_path / "run").exists()
    data = make_tiny_dataset()
    for clip in data["annotations"][5:8]:
        clip["keypoint_score"] = np.zeros_like(clip["keypoint_score"])
    refuse, warn = _problems(data)
    assert refuse == [] and warn == ["2 of 30 training clips have no keypoint (all coordinates or all scores zero); "
                                     "they teach nothing"]


def test_classes_without_training_clips_and_one_class_validation_are_warned(capsys, tmp_path):
    data = make_tiny_dataset()
    data["class_names"].append("Ghost")
    dataset = validate_dataset(data, "mem")
    splits = make_splits(dataset)
    splits.val = [i for i in splits.val if dataset.clip(i)["label"] == 1]
    refuse, warn = learnability_problems(dataset, splits)
    assert refuse == [] and warn == [
        "1 class(es) have no training clip and can never be predicted: Ghost",
        "every validation clip is of one class (Class1): validation accuracy and macro-F1 (which choose best.pt) "
        "say little"]
    train(tiny_config(epochs=1), dataset, tmp_path / "run", verbose=False)
    assert "warning: mem: 1 class(es) have no training clip" in capsys.readouterr().err
