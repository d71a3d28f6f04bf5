"""Body-shape proximity of validation and test clips to training clips."""
import pytest

from helpers.tools import proximity
from helpers.cli import run_command
from helpers.data.dataset import save_dataset, validate_dataset
from helpers.data.splits import Splits
from tests.conftest import make_tiny_dataset


def test_twins_of_training_clips_are_at_distance_zero():
    data = make_tiny_dataset()
    train_ids, test_ids = list(data["split"]["train1"]), list(data["split"]["test1"])
    by_id = {clip["frame_dir"]: clip for clip in data["annotations"]}
    twins = train_ids[:6]                                   # validation: copies of six training clips
    for index, twin in enumerate(twins):
        copy = dict(by_id[twin], frame_dir=f"twin{index}", keypoint=by_id[twin]["keypoint"] + 7)  # moved, same shape
        data["annotations"].append(copy)
        data["split"]["train1"].append(copy["frame_dir"])
    dataset = validate_dataset(data, "mem")
    splits = Splits(train=train_ids, val=[f"twin{i}" for i in range(6)], test=test_ids, protocol="test")
    distances = proximity.split_proximity(dataset, splits)
    assert distances["val"] == pytest.approx(0.0, abs=1e-3)
    assert distances["test"] > 0.05


def test_command_prints_one_line_per_carveout(tmp_path, capsys):
    path = save_dataset(make_tiny_dataset(groups=8), tmp_path / "tiny.pkl")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"data: {{path: {path}}}\n")
    argv = ["--config", str(recipe), "--carveouts", "0,2", "--val-groups", "body_shape"]
    assert run_command(proximity.main, argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["carve-out 0", "carve-out 2"]
    assert all("val " in line and "test " in line for line in lines)
