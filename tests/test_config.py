import pytest

from helpers.config import (Config, apply_overrides, compose_config, config_from_dict, dataset_config_path, load_config,
                            parse_set, save_config)
from helpers.models.registry import MODELS
from helpers.paths import RECIPES_DIR
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


def test_set_entries_are_parsed_and_checked():
    assert parse_set(["train.epochs=40", "augment.rotate_degrees=20.5", "model.streams=[joint]"]) \
        == {"train": {"epochs": 40}, "augment": {"rotate_degrees": 20.5}, "model": {"streams": ["joint"]}}
    with pytest.raises(UserInputError, match="section.field=value"):
        parse_set(["epochs=40"])


def test_composition_layers_dataset_file_recipe_and_overrides(tmp_path):
    dataset = tmp_path / "mine.yaml"
    dataset.write_text("data: {path: data/mine.pkl}\npreprocess: {length: 32}\n")
    (tmp_path / "joint.yaml").write_text("model: {name: stgcn, streams: [joint]}\ntrain: {epochs: 12, lr: 0.1}\n")
    (tmp_path / "bone.yaml").write_text("base: joint\nmodel: {streams: [bone]}\n")
    config = compose_config(dataset, tmp_path / "bone.yaml", ["train.epochs=3"])
    assert (config.data.path, config.preprocess.length) == ("data/mine.pkl", 32)          # dataset file
    assert (config.model.name, config.train.lr) == ("stgcn", 0.1)                       # base recipe
    assert config.model.streams == ["bone"] and config.train.epochs == 3                # recipe, then --set
    assert config.train.batch_size == Config().train.batch_size                        # defaults elsewhere
    (tmp_path / "loop.yaml").write_text("base: loop\n")
    with pytest.raises(UserInputError, match="form a loop"):
        compose_config(None, tmp_path / "loop.yaml")


def test_shipped_dataset_files_and_recipes_compose():
    for dataset in ("synthetic", "jhmdb", "ucf101_5cls", "ucf101_full"):
        assert dataset_config_path(dataset).is_file()
    for recipe in sorted(RECIPES_DIR.glob("*.yaml")):
        config = compose_config("synthetic", recipe)
        assert config.model.name in MODELS, recipe
    bone = compose_config("jhmdb", "jhmdb_stgcn_bone")
    joint = compose_config("jhmdb", "jhmdb_stgcn_joint")
    assert bone.model.streams == ["bone", "bone_motion"] and joint.model.streams == ["joint", "joint_motion"]
    bone.model.streams = joint.model.streams
    assert bone == joint                      # the fused members differ in their streams only
