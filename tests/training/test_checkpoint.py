"""Checkpoints: a round trip keeps the model and its settings; missing, corrupt, foreign and tampered
files are refused in one line, before a model is allocated."""
import copy
import os
import zipfile

import pytest
import torch

from helpers.config import Config
from helpers.data.layouts import COCO17, JHMDB15
from helpers.errors import UserInputError
from helpers.models.registry import build_model, model_kwargs
from helpers.training import checkpoint as checkpoint_module
from helpers.training.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from tests.hostile import tiny_checkpoint


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
    with pytest.raises(UserInputError, match="junk.pt: not a checkpoint"):
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


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "best.pt")


def _tampered(good, tmp_path, change):
    state = torch.load(good, weights_only=True)
    state = copy.deepcopy(state)
    change(state)
    path = tmp_path / "tampered.pt"
    torch.save(state, path)
    return path


TAMPERED = {
    "settings that do not match the weights": (
        lambda s: s["model_kwargs"].update(num_layers=2), "its weights do not match its settings"),
    "hidden_size 60000": (
        lambda s: s["model_kwargs"].update(hidden_size=60000),
        "'lstm.weight_ih_l0' is (32, 34) in the file, the settings make (240000, 34)"),
    "num_layers 70000": (  # minutes to build even on the meta device
        lambda s: s["model_kwargs"].update(num_layers=70000), "they make a model of more than 28 tensors"),
    "class names that do not match the weights": (
        lambda s: s.update(class_names=["a", "b"]), "'head.weight' is (3, 8) in the file, the settings make (2, 8)"),
    "an unknown layout": (lambda s: s.update(layout="octopus8"), "field 'layout': unknown layout 'octopus8'"),
    "an unknown setting": (lambda s: s["model_kwargs"].update(wings=2), "baseline takes no setting 'wings'"),
    "a setting of the wrong type": (lambda s: s["model_kwargs"].update(hidden_size="x"),
                                    "baseline's setting 'hidden_size' takes int, got 'x'"),
    "a flag as a number of layers": (lambda s: s["model_kwargs"].update(num_layers=True),  # found by the fuzz suite
                                     "baseline's setting 'num_layers' takes int, got True"),
    "wrong config types": (lambda s: s["config"]["train"].update(epochs="ten"),
                           "(config): train.epochs: expected an integer in [1, 1000000], got 'ten'"),
    "an unknown config section": (lambda s: s["config"].update(bogus={}), "(config): unknown field 'bogus'"),
    "streams that do not match the weights": (lambda s: s["config"]["model"].update(streams=["joint", "bone"]),
                                              "model.streams ['joint', 'bone'] make 4 input channels"),
    "a tensor as format version": (lambda s: s.update(format_version=torch.zeros(3)), "field 'format_version'"),
    "weights that are not tensors": (lambda s: s.update(state_dict=[1, 2]), "field 'state_dict'"),
    "duplicate class names": (lambda s: s.update(class_names=["a", "a", "b"]), "field 'class_names'"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_tampered_checkpoints_are_refused_before_a_model_is_allocated(case, good, tmp_path, monkeypatch):
    change, message = TAMPERED[case]
    path = _tampered(good, tmp_path, change)
    devices = []
    real_build = checkpoint_module.build_model

    def recording_build(*args, **kwargs):
        devices.append(str(torch.get_default_device()))
        return real_build(*args, **kwargs)

    monkeypatch.setattr(checkpoint_module, "build_model", recording_build)
    with pytest.raises(UserInputError) as error:
        load_checkpoint(path)
    assert str(error.value).startswith(f"{path}") and message in str(error.value) and "\n" not in str(error.value)
    assert set(devices) <= {"meta"}  # nothing was built for real (hidden_size 60000 would be 57.6 GB)


def test_a_model_that_builds_but_cannot_run_is_refused_at_load(good, tmp_path):
    path = _tampered(good, tmp_path, lambda s: s["config"]["preprocess"].update(max_persons=2))  # still runs
    assert load_checkpoint(path).preprocess.max_persons == 2
    ddnet = tiny_checkpoint(tmp_path / "ddnet.pt", name="ddnet")
    path = _tampered(ddnet, tmp_path, lambda s: s["config"]["preprocess"].update(length=1))
    with pytest.raises(UserInputError, match=r"tampered.pt: its model does not run on input \(1, 2, 1, 17, 1\)"):
        load_checkpoint(path)


def test_a_checkpoint_whose_start_is_not_a_zip_is_refused_before_torch_reads_it(good, tmp_path):
    """torch reads a file not starting with 'PK' as a raw pickle: a 4-byte length made it read 512 MiB."""
    path = tmp_path / "mangled.pt"
    path.write_bytes(b"X\x00\x00\x00 " + good.read_bytes()[5:])
    with pytest.raises(UserInputError, match="mangled.pt: not a checkpoint"):
        load_checkpoint(path)


def test_a_checkpoint_trained_on_cuda_still_loads_here(good, tmp_path):
    path = _tampered(good, tmp_path, lambda s: s["config"]["train"].update(device="cuda:3"))
    assert load_checkpoint(path).config.train.device == "cuda:3"


def test_an_unsafe_checkpoint_is_refused_without_torchs_advice_to_load_it_anyway(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, ("true",))

    path = tmp_path / "evil.pt"
    torch.save({"model_name": Payload()}, path)
    with pytest.raises(UserInputError, match=r"evil.pt: refused to load checkpoint: it references '(posix|os)\.system'"
                       ) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert "weights_only" not in message and "trust" not in message and "\x1b" not in message


def test_files_that_are_not_checkpoints(tmp_path, good):
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    compressed = tmp_path / "compressed.pt"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(compressed, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:2000])
    for path, message in ((legacy, "not a zip-format torch file"), (compressed, "compressed members"),
                          (cut, "not a checkpoint"), (tmp_path / "none.pt", "checkpoint not found")):
        with pytest.raises(UserInputError, match=message):
            load_checkpoint(path)


def test_predict_and_evaluate_refuse_a_tampered_checkpoint_in_one_line(good, tmp_path, capsys):
    from helpers import evaluate, predict
    from tests.hostile import assert_one_line_error, run_main

    path = _tampered(good, tmp_path, lambda s: s["model_kwargs"].update(hidden_size=60000))
    for main, argv in ((predict.main, ["--ckpt", path, "--input", path]), (evaluate.main, ["--ckpt", path])):
        code, _, err = run_main(main, argv, capsys)
        assert_one_line_error(code, err, "tampered.pt: its weights do not match its settings")
