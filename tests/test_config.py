import pytest

from helpers.config import Config, apply_overrides, config_from_dict, load_config, save_config
from helpers.errors import UserInputError


def test_yaml_round_trip_and_unknown_fields(tmp_path):
    config = Config()
    config.model.name, config.train.epochs, config.model.streams = "stgcn", 7, ["joint", "bone"]
    save_config(config, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == config
    with pytest.raises(UserInputError, match="config.train: unknown field 'epoch'"):
        config_from_dict({"train": {"epoch": 3}})
    (tmp_path / "bad.yaml").write_text("train: [1,\n")
    with pytest.raises(UserInputError, match="bad.yaml: not valid YAML"):
        load_config(tmp_path / "bad.yaml")


def test_recipe_overrides_only_named_fields():
    config = Config()
    apply_overrides(config, {"train": {"optimizer": "sgd", "lr": 0.1}, "augment": {"enabled": True}}, "recipe.yaml")
    assert (config.train.optimizer, config.train.lr, config.augment.enabled) == ("sgd", 0.1, True)
    assert config.train.epochs == Config().train.epochs and config.data == Config().data
    with pytest.raises(UserInputError, match="recipe.yaml: unknown field 'train.lrate'"):
        apply_overrides(config, {"train": {"lrate": 1}}, "recipe.yaml")
    with pytest.raises(UserInputError, match="recipe.yaml: unknown config section 'optim'"):
        apply_overrides(config, {"optim": {"lr": 1}}, "recipe.yaml")
