import pytest
import torch

from helpers.config import Config
from helpers.data.layouts import COCO17, JHMDB15
from helpers.errors import UserInputError
from helpers.models.registry import build_model, model_kwargs
from helpers.training.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint


def saved(tmp_path, name="improved"):
    """A freshly built model of `name` saved as a checkpoint; returns (model, path)."""
    config = Config()
    config.model.name, config.model.hidden_size, config.model.num_layers = name, 8, 1
    torch.manual_seed(0)
    kwargs = model_kwargs(config)
    model = build_model(name, 3, COCO17, 2, **kwargs).eval()
    path = save_checkpoint(tmp_path / "best.pt", model, config, ["a", "b", "c"], COCO17, 2, kwargs, epoch=4,
                           metrics={"val_acc": 0.5, "val_f1": 0.25})
    return model, path


def test_round_trip_predicts_the_same_and_keeps_the_settings(tmp_path):
    model, path = saved(tmp_path)
    loaded = load_checkpoint(path)
    x = torch.randn(2, 2, 10, COCO17.num_joints, 1)            # (N, C, T, V, M)
    torch.testing.assert_close(loaded.model(x), model(x), rtol=0, atol=0)
    assert not loaded.model.training and loaded.model_name == "improved"
    assert loaded.class_names == ["a", "b", "c"] and loaded.layout is COCO17 and loaded.streams == ["joint"]
    assert loaded.config.model.hidden_size == 8 and loaded.preprocess == loaded.config.preprocess
    assert loaded.state["epoch"] == 4 and loaded.state["metrics"] == {"val_acc": 0.5, "val_f1": 0.25}
    assert loaded.state["format_version"] == FORMAT_VERSION
    assert all(tensor.device.type == "cpu" for tensor in loaded.state["state_dict"].values())


def test_missing_corrupt_and_foreign_files_are_user_errors(tmp_path):
    with pytest.raises(UserInputError, match="none.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip file")
    with pytest.raises(UserInputError, match="junk.pt: not a loadable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"state_dict": {}, "model_name": "baseline"}, tmp_path / "foreign.pt")
    with pytest.raises(UserInputError, match="foreign.pt: not a skeleton-actions checkpoint .missing format_version"):
        load_checkpoint(tmp_path / "foreign.pt")


def test_check_fits_compares_joint_count_and_layout_name(tmp_path):
    _, path = saved(tmp_path, "baseline")
    loaded = load_checkpoint(path)
    loaded.check_fits("same.pkl", COCO17.num_joints, COCO17.name)
    loaded.check_fits("count only.pkl", COCO17.num_joints)
    with pytest.raises(UserInputError, match="other.pkl: data has 15 joints but checkpoint .*coco17 \\(17 joints\\)"):
        loaded.check_fits("other.pkl", JHMDB15.num_joints)
    with pytest.raises(UserInputError, match="layout openpose18 \\(17 joints\\)"):
        loaded.check_fits("renamed.pkl", 17, "openpose18")
