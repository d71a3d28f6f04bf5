"""`python -m helpers.train`: outputs that cannot be written fail in one line and leave no partial files."""
import errno

import pytest

from helpers import io, train
from helpers.data.dataset import save_dataset
from tests.conftest import make_tiny_dataset
from tests.hostile import assert_one_line_error, run_main, tree


@pytest.fixture
def tiny_args(tmp_path):
    data = save_dataset(make_tiny_dataset(groups=5, clips_per_group=1), tmp_path / "data" / "tiny.pkl")
    config = tmp_path / "tiny.yaml"
    config.write_text("model:\n  hidden_size: 8\n  num_layers: 1\npreprocess:\n  length: 8\n"
                      "train:\n  epochs: 1\n  batch_size: 8\ndata:\n  cache: false\n")
    return ["--config", config, "--data", data]


def test_out_that_is_a_file_is_refused(tiny_args, tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    code, _, err = run_main(train.main, [*tiny_args, "--out", tmp_path / "taken"], capsys)
    assert_one_line_error(code, err, "--out", "taken: is a file, not a folder")


def test_a_read_only_run_folder_fails_before_anything_is_written(tiny_args, tmp_path, capsys, monkeypatch):
    def read_only(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(dir))

    monkeypatch.setattr(io.tempfile, "mkstemp", read_only)
    code, _, err = run_main(train.main, [*tiny_args, "--out", tmp_path / "run"], capsys)
    assert_one_line_error(code, err, f"{tmp_path / 'run' / 'splits.json'}: Permission denied")
    assert tree(tmp_path / "run") == []


def test_a_full_disk_fails_in_one_line_and_leaves_no_temp_files(tiny_args, tmp_path, capsys, monkeypatch):
    import torch

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    code, _, err = run_main(train.main, [*tiny_args, "--out", tmp_path / "run"], capsys)
    assert_one_line_error(code, err, f"{tmp_path / 'run' / 'best.pt'}: No space left on device")
    assert not [name for name in tree(tmp_path / "run") if name.endswith(".tmp")]
