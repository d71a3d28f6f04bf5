"""Weighted late fusion from --recipe auto's out-of-fold probabilities."""
import numpy as np
import pytest

from helpers.cli import run_command
from helpers.errors import UserInputError
from helpers.io import atomic_write
from helpers.tools import fuse_folds


def write(folder, probabilities, fold=(0, 0, 1, 1)):
    atomic_write(folder / "out_of_fold.npz", lambda file: np.savez(
        file, probabilities=np.array(probabilities, float), labels=np.array([0, 1, 0, 1]), fold=np.array(fold),
        clip_ids=np.array(["a", "b", "c", "d"])))
    return str(folder)


def test_weights_decide_the_fused_prediction(tmp_path, capsys):
    sure = write(tmp_path / "sure", [[0.9, 0.1], [0.8, 0.2], [0.9, 0.1], [0.8, 0.2]])     # right on clips a, c
    other = write(tmp_path / "other", [[0.45, 0.55], [0.1, 0.9], [0.45, 0.55], [0.1, 0.9]])  # right on b, d
    assert fuse_folds.fused_fold_accuracies([sure, other]) == [1.0, 1.0]
    assert fuse_folds.fused_fold_accuracies([sure, other], [3, 1]) == [0.5, 0.5]
    assert run_command(fuse_folds.main, [sure, other, "--weights", "1,1"]) == 0
    assert "2-fold accuracy 100.0 ± 0.0% (folds: 100.0, 100.0)" in capsys.readouterr().out


def test_other_folds_and_missing_files_are_refused(tmp_path):
    first = write(tmp_path / "a", np.full((4, 2), 0.5))
    second = write(tmp_path / "b", np.full((4, 2), 0.5), fold=(0, 1, 0, 1))
    with pytest.raises(UserInputError, match="other clips or folds"):
        fuse_folds.fused_fold_accuracies([first, second])
    assert run_command(fuse_folds.main, [str(tmp_path / "none")]) == 2
