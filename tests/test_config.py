import dataclasses

import pytest

from helpers.config import (CONFIG_RULES, SECTION_RULES, Config, apply_overrides, check_config, compose_config,
                            config_from_dict, dataset_config_path, load_config, parse_set, save_config)
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


def test_every_setting_has_a_rule():
    config = Config()
    assert set(CONFIG_RULES) == {f.name for f in dataclasses.fields(config) if f.name not in SECTION_RULES}
    for section, rules in SECTION_RULES.items():
        assert set(rules) == {f.name for f in dataclasses.fields(getattr(config, section))}, section
        for f in dataclasses.fields(getattr(config, section)):  # every default obeys its rule (checks skip them)
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            assert rules[f.name].check(default) == default, (section, f.name)
    check_config(Config(), "defaults")


BAD = {  # YAML text -> what the one-line error says
    'train:\n  epochs: "ten"\n': "train.epochs: expected an integer in [1, 1000000], got 'ten' (a string",
    "train:\n  epochs: 0\n": "train.epochs: expected an integer in [1, 1000000], got 0",
    "train:\n  epochs: -3\n": "train.epochs: expected an integer in [1, 1000000], got -3",
    "train:\n  epochs: 1.5\n": "train.epochs: expected an integer in [1, 1000000], got 1.5",
    "train:\n  lr: -1e-3\n": "train.lr: expected a number > 0, got -0.001",
    "train:\n  lr: .nan\n": "train.lr: expected a number > 0, got nan",
    "train:\n  batch_size: 0\n": "train.batch_size: expected an integer in [1, 65536], got 0",
    "preprocess:\n  length: 0\n": "preprocess.length: expected an integer in [1, 10000], got 0",
    'data:\n  cache: "no"\n': "data.cache: expected true or false, got 'no'",
    "data:\n  val_fraction: 1.0\n": "data.val_fraction: expected a number in [0, 1), got 1",
    "data:\n  classes: []\n": "data.classes: expected null (every class) or a non-empty list",
    "model:\n  streams: [joint, joint]\n": "model.streams: expected a non-empty list of distinct streams",
    "model:\n  name: ddnet\n  extra:\n    filterz: 3\n": "model.extra: ddnet takes no setting 'filterz'",
    "model:\n  extra:\n    a: {b: 1}\n": "model.extra: values must be numbers, strings, true/false or lists",
    "train:\n  device: gpu\n": "train.device: expected auto, cpu, cuda or cuda:N, got 'gpu'",
    "train:\n  [1]: 2\n": "not valid YAML",
    "model:\n  extra:\n    a: " + "[" * 5000 + "]" * 5000 + "\n": "not valid YAML (nested too deeply: more than 32",
    "train: !!python/object/apply:os.system [true]\n": "not valid YAML (could not determine a constructor",
}


@pytest.mark.parametrize("text", sorted(BAD))
def test_bad_settings_are_refused_when_read_in_one_line(text, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserInputError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}") and BAD[text] in message and "\n" not in message


def test_numbers_written_as_text_are_the_numbers_users_mean(tmp_path):
    """PyYAML reads `lr: 1e-3` (no dot) as a string."""
    path = tmp_path / "lr.yaml"
    path.write_text("train:\n  lr: 1e-3\n  weight_decay: 5e-4\n  epochs: 3\n")
    config = load_config(path)
    assert config.train.lr == 0.001 and type(config.train.lr) is float and config.train.weight_decay == 0.0005
    save_config(config, tmp_path / "again.yaml")
    assert "lr: 0.001" in (tmp_path / "again.yaml").read_text()


def test_recipes_are_checked_too():
    config = Config()
    with pytest.raises(UserInputError, match=r"recipe.yaml: train.epochs: expected an integer in \[1, 1000000\], got 0"):
        apply_overrides(config, {"train": {"epochs": 0}}, "recipe.yaml")
    with pytest.raises(UserInputError, match="recipe.yaml: unknown config section 1"):
        apply_overrides(config, {1: {}}, "recipe.yaml")


def test_non_utf8_yaml_is_refused(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("train:\n  optimizer: adam  # caf\xe9\n".encode("latin-1"))
    with pytest.raises(UserInputError, match=r"latin1.yaml: not UTF-8 text \(byte 0xe9 at position 31\)"):
        load_config(path)


def test_a_device_this_machine_lacks_is_refused_but_checkpoints_keep_theirs(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = tmp_path / "cuda.yaml"
    path.write_text("train:\n  device: cuda\n")
    with pytest.raises(UserInputError, match="cuda.yaml: train.device: 'cuda' asks for CUDA, but torch .* sees no CUDA"):
        load_config(path)
    stored = config_from_dict({"train": {"device": "cuda"}}, "ckpt (config)", here=False)
    assert stored.train.device == "cuda"  # trained elsewhere: predicting here needs no CUDA


def test_train_command_refuses_bad_settings_before_writing(tmp_path, capsys):
    from helpers import train
    from tests.hostile import assert_one_line_error, run_main, tree

    path = tmp_path / "mine.yaml"
    path.write_text("train:\n  epochs: 2\n")
    for argv, message in ((["--set", "train.epochs=-3"], "--set: train.epochs: expected an integer in [1, 1000000], got -3"),
                          (["--set", "model.dropout=1.5"], "--set: model.dropout: expected a number in [0, 1), got 1.5"),
                          (["--recipe", path, "--set", "train.lr=ten"], "--set: train.lr: expected a number > 0, got 'ten'")):
        code, _, err = run_main(train.main, ["--config", path, "--out", tmp_path / "run", *argv], capsys)
        assert_one_line_error(code, err, message)
    assert tree(tmp_path) == ["mine.yaml"]
