"""ONNX export of every model family, checked against PyTorch with onnxruntime on the real UCF101 sample."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers.data.dataset import load_dataset, save_dataset, to_dict
from helpers.errors import UserInputError
from helpers.evaluation import onnx_export
from helpers.evaluation.onnx_model import OnnxClassifier
from helpers.evaluation.scoring import clip_probabilities
from helpers.paths import PROJECT_ROOT
from helpers.training.loop import train
from tests.training.test_loop import tiny_config

TWO_PERSON_CLIP = "v_ApplyEyeMakeup_g01_c01"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The six real clips relabelled to two classes (as tests/test_predict.py does), written to a pickle."""
    from tests.conftest import real_data_path

    data = to_dict(load_dataset(real_data_path("ucf101_sample", "mini_ucf101.pkl")))
    data["annotations"] = [{**c, "label": i % 2} for i, c in enumerate(data["annotations"])]
    data["class_names"] = ["ApplyEyeMakeup", "ApplyLipstick"]
    return save_dataset(data, tmp_path_factory.mktemp("onnx") / "two_class.pkl")


@pytest.fixture(scope="module")
def checkpoints(sample, tmp_path_factory):
    """family -> best.pt of one epoch on the sample; ST-GCN reads two persons, 2 views and their mirrors."""
    folder, paths = tmp_path_factory.mktemp("runs"), {}
    for name in onnx_export.exportable_families():
        config = tiny_config(name, epochs=1)
        config.data.val_fraction = 0.0
        if name == "stgcn":
            config.preprocess.max_persons, config.augment.test_clips, config.augment.test_flip = 2, 2, True
        train(config, load_dataset(sample), folder / name, verbose=False)
        paths[name] = folder / name / "best.pt"
    return paths


@pytest.fixture(scope="module")
def exported(checkpoints, tmp_path_factory):
    """family -> its exported ONNX file (each family exported once per test session)."""
    folder = tmp_path_factory.mktemp("onnx_files")
    return {name: onnx_export.export_checkpoint(onnx_export.load_exportable(path), folder / f"{name}.onnx")
            for name, path in checkpoints.items()}


def test_every_torch_family_is_exportable():
    assert set(onnx_export.exportable_families()) >= {"baseline", "improved", "stgcn", "ddnet"}


@pytest.mark.parametrize("name", ["baseline", "improved", "stgcn", "ddnet"])
def test_export_matches_torch_on_real_clips(name, checkpoints, exported, sample):
    checkpoint = onnx_export.load_exportable(checkpoints[name])
    clips = load_dataset(sample).annotations
    inputs = onnx_export.clip_inputs(checkpoint, clips)  # (6 clips * views, C, T, V, M)
    check = onnx_export.check_against_torch(exported[name], checkpoint, inputs)
    print(f"{name}: {check.describe()}")
    assert check.clips == len(clips) * (4 if name == "stgcn" else 1)
    assert check.passed and check.max_logit_difference < onnx_export.TOLERANCE
    assert check.batch_sizes == (len(inputs), 1)  # the dynamic batch axis, run at two sizes


def test_the_check_fails_when_weights_differ(checkpoints, exported, sample):
    checkpoint = onnx_export.load_exportable(checkpoints["ddnet"])
    with torch.no_grad():
        list(checkpoint.model.parameters())[-1].add_(0.01)  # the classifier's bias: every logit moves by 0.01
    inputs = onnx_export.clip_inputs(checkpoint, load_dataset(sample).annotations)
    check = onnx_export.check_against_torch(exported["ddnet"], checkpoint, inputs)
    assert not check.passed and check.max_logit_difference > onnx_export.TOLERANCE


def test_metadata_carries_classes_preprocessing_and_a_dynamic_batch(checkpoints, exported):
    model = OnnxClassifier(exported["stgcn"])
    checkpoint = onnx_export.load_exportable(checkpoints["stgcn"])
    assert model.class_names == ["ApplyEyeMakeup", "ApplyLipstick"] and model.layout.name == "coco17"
    assert model.preprocess == checkpoint.preprocess and model.preprocess.max_persons == 2
    assert model.streams == ["joint"] and model.views == [(0, 2, False), (0, 2, True), (1, 2, False), (1, 2, True)]
    meta = model.session.get_modelmeta().custom_metadata_map
    assert set(meta) >= set(onnx_export.METADATA_KEYS)
    assert json.loads(meta["config"])["model"]["name"] == "stgcn"
    batch, *rest = model.session.get_inputs()[0].shape
    assert isinstance(batch, str) and rest == [2, 24, 17, 2]  # N symbolic; C, T, V, M fixed


def test_onnx_probabilities_equal_the_checkpoints(checkpoints, exported, sample):
    clips = load_dataset(sample).annotations
    expected = clip_probabilities(onnx_export.load_exportable(checkpoints["stgcn"]), clips)
    np.testing.assert_allclose(OnnxClassifier(exported["stgcn"]).probabilities(clips), expected, atol=1e-5)


def test_export_command_prints_the_difference(checkpoints, sample, tmp_path, capsys):
    from helpers import export
    from helpers.cli import run_command

    out = tmp_path / "model.onnx"
    code = run_command(export.main, ["--ckpt", str(checkpoints["baseline"]), "--out", str(out),
                                     "--check-input", str(sample)])
    printed = capsys.readouterr().out
    assert code == 0 and out.is_file()
    assert "checked on 6 clips" in printed and "max |logit difference|" in printed


def test_predict_onnx_imports_no_torch(checkpoints, exported, sample):
    """The --onnx path runs on numpy and onnxruntime: torch is never imported."""
    args = ["--onnx", str(exported["stgcn"]), "--input", str(sample), "--clip", TWO_PERSON_CLIP, "--top-k", "2"]
    code = ("import sys; from helpers.predict import main; main(sys.argv[1:]); "
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn')); "
            "print('heavy modules:', loaded)")
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "heavy modules: []" in done.stdout
    assert "keypoint shape (2, 163, 17, 2)" in done.stdout
    onnx_top = [line.split()[1] for line in done.stdout.splitlines() if line.strip().startswith("1.")]
    from helpers.predict import main as predict_main
    import contextlib, io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        predict_main(["--ckpt", str(checkpoints["stgcn"]), *args[2:]])
    assert [line.split()[1] for line in buffer.getvalue().splitlines() if line.strip().startswith("1.")] == onnx_top


@pytest.mark.parametrize("name", ["classical", "logistic_regression"])  # fitted by scikit-learn; unknown
def test_a_family_not_trained_in_torch_is_refused_by_name(name, tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"format_version": 1, "model_name": name}, path)
    with pytest.raises(UserInputError, match=f"'{name}' cannot be exported to ONNX"):
        onnx_export.load_exportable(path)
    assert name not in onnx_export.exportable_families()


def test_onnx_model_refuses_foreign_files_and_other_skeletons(exported, tmp_path):
    foreign = tmp_path / "foreign.onnx"
    foreign.write_bytes(b"not an onnx model")
    with pytest.raises(UserInputError, match="not a loadable ONNX model"):
        OnnxClassifier(foreign)
    with pytest.raises(UserInputError, match="trained on layout coco17"):
        OnnxClassifier(exported["baseline"]).check_fits("clip 'x'", 15)


def test_the_check_reads_every_clip_of_a_dataset_or_what_predict_reads(sample, tmp_path):
    import pickle

    from helpers.export import read_check_clips

    clips = load_dataset(sample).annotations
    assert len(read_check_clips(str(sample), None)) == 6
    assert [c["frame_dir"] for c in read_check_clips(str(sample), TWO_PERSON_CLIP)] == [TWO_PERSON_CLIP]
    several = tmp_path / "list.pkl"
    several.write_bytes(pickle.dumps(clips[:2]))
    assert len(read_check_clips(str(several), None)) == 2
