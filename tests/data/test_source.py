import pytest

from helpers.config import DataConfig
from helpers.data.dataset import save_dataset
from helpers.data.source import default_dataset_path, is_default_dataset, open_dataset
from helpers.errors import UserInputError
from tests.conftest import make_tiny_dataset


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_ACTIONS_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def test_a_configured_file_is_opened_and_reduced_to_its_classes(tmp_path, capsys):
    path = save_dataset(make_tiny_dataset(num_classes=3), tmp_path / "tiny.pkl")
    for cache in (True, False):
        dataset = open_dataset(DataConfig(path=str(path), classes=["Class2", "Class0"], cache=cache), verbose=True)
        assert dataset.class_names == ["Class2", "Class0"] and len(dataset.annotations) == 40
        assert sorted({clip["label"] for clip in dataset.annotations}) == [0, 1]
        assert "Dataset tiny.pkl: 40 clips, 2 classes, layout coco17" in capsys.readouterr().out
        assert not is_default_dataset(dataset.source)


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(UserInputError, match="nope.pkl: dataset file not found .see data/README.md"):
        open_dataset(DataConfig(path=str(tmp_path / "nope.pkl")))


def test_no_file_means_the_synthetic_default_generated_once_under_a_hashed_name(data_folder, capsys):
    data_folder.mkdir()
    stale = data_folder / "synthetic_default-0123456789.pkl"
    stale.write_bytes(b"an older generator's file")
    path = default_dataset_path(verbose=True)
    assert "using the built-in SYNTHETIC dataset" in capsys.readouterr().out
    assert path.parent == data_folder and path.name.startswith("synthetic_default-") and path != stale
    assert not stale.exists() and is_default_dataset(path)
    modified = path.stat().st_mtime_ns
    assert default_dataset_path(verbose=False) == path and path.stat().st_mtime_ns == modified   # reused
    dataset = open_dataset(DataConfig(), verbose=False)
    assert is_default_dataset(dataset.source) and dataset.num_classes == 10 and dataset.layout.name == "coco17"
