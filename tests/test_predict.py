"""`python -m helpers.predict` end to end on the real UCF101 sample, and its input errors."""
import pickle
import subprocess
import sys

import pytest

from helpers.data.dataset import load_dataset, save_dataset, to_dict
from helpers.predict import main as predict_main
from helpers.training.loop import train
from tests.training.test_loop import tiny_config


@pytest.fixture(scope="module")
def sample_checkpoint(tmp_path_factory, request):
    """A checkpoint trained in the test, on tiny settings, on the real six clips relabelled to two classes."""
    from tests.conftest import real_data_path

    dataset = load_dataset(real_data_path("ucf101_sample", "mini_ucf101.pkl"))
    data = to_dict(dataset)
    data["annotations"] = [{**c, "label": i % 2} for i, c in enumerate(data["annotations"])]
    data["class_names"] = ["ApplyEyeMakeup", "ApplyLipstick"]
    folder = tmp_path_factory.mktemp("predict")
    path = save_dataset(data, folder / "two_class.pkl")
    config = tiny_config(epochs=2)
    config.data.val_fraction = 0.0
    train(config, load_dataset(path), folder / "run", verbose=False)
    return folder / "run" / "best.pt"


def test_predict_real_two_person_clip_prints_names(sample_checkpoint, ucf_sample_path, capsys):
    code = predict_main(["--ckpt", str(sample_checkpoint), "--input", str(ucf_sample_path),
                         "--clip", "v_ApplyEyeMakeup_g01_c01", "--top-k", "2"])
    assert code in (0, None)
    out = capsys.readouterr().out
    assert "keypoint shape (2, 163, 17, 2)" in out
    assert "person used: slot" in out and "of 2 (highest total score)" in out
    lines = [line.split() for line in out.splitlines() if line.strip().startswith(("1.", "2."))]
    assert {line[1] for line in lines} == {"ApplyEyeMakeup", "ApplyLipstick"}
    assert sum(float(line[2]) for line in lines) == pytest.approx(1.0, abs=2e-3)


def test_predict_accepts_single_annotation_and_list(sample_checkpoint, ucf_sample_path, tmp_path, capsys):
    clips = load_dataset(ucf_sample_path).annotations
    single, several = tmp_path / "one.pkl", tmp_path / "list.pkl"
    single.write_bytes(pickle.dumps(clips[0]))
    several.write_bytes(pickle.dumps(clips[:2]))
    predict_main(["--ckpt", str(sample_checkpoint), "--input", str(single)])
    predict_main(["--ckpt", str(sample_checkpoint), "--input", str(several), "--clip", clips[1]["frame_dir"]])
    out = capsys.readouterr().out
    assert out.count("keypoint shape") == 2 and clips[1]["frame_dir"] in out


def test_cli_user_errors_are_one_line_without_traceback(sample_checkpoint, ucf_sample_path, tmp_path, capsys):
    from helpers import train as train_command
    from helpers.cli import run_command

    evil = tmp_path / "evil.pkl"
    evil.write_bytes(b"cos\nsystem\n(S'touch " + str(tmp_path / "ran").encode() + b"'\ntR.")
    ckpt, sample = str(sample_checkpoint), str(ucf_sample_path)
    cases = [
        (predict_main, ["--ckpt", ckpt, "--input", sample], "choose one with --clip"),
        (predict_main, ["--ckpt", ckpt, "--input", str(evil)], "refused to load pickle"),
        (predict_main, ["--ckpt", str(tmp_path / "none.pt"), "--input", str(evil)], "checkpoint not found"),
        (predict_main, ["--ckpt", ckpt, "--input", sample, "--clip", "v_X_g01_c01"], "no clip with frame_dir 'v_X_g01_c01'"),
        (train_command.main, ["--config", str(tmp_path / "missing.yaml")], "config file not found"),
    ]
    for main, args, message in cases:
        assert run_command(main, args) == 2, args
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    # and as a real process: exit status 2, one line, no traceback, payload never ran
    result = subprocess.run([sys.executable, "-m", "helpers.predict", "--ckpt", ckpt, "--input", str(evil)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "os.system" in result.stderr
    assert not (tmp_path / "ran").exists()


def test_commands_have_help():
    from helpers import evaluate, predict, train as train_command

    for module, option in ((train_command, "--recipe"), (evaluate, "--ckpt"), (predict, "--ckpt")):
        text = module.build_parser().format_help()
        assert text.startswith(f"usage: {module.build_parser().prog}") and option in text, module


def test_predict_fuses_a_classical_and_a_neural_checkpoint(sample_checkpoint, ucf_sample_path, capsys):
    from helpers.training.checkpoint import load_checkpoint
    from tests.training.test_fit import classical_config

    config = load_checkpoint(sample_checkpoint).config          # the same data settings: the members fuse
    forest = classical_config()
    forest.data = config.data
    folder = sample_checkpoint.parent.parent
    train(forest, load_dataset(folder / "two_class.pkl"), folder / "forest", verbose=False)
    argv = ["--input", str(ucf_sample_path), "--clip", "v_ApplyEyeMakeup_g01_c01", "--top-k", "2"]
    shown = {}
    for name, ckpts in (("lstm", [sample_checkpoint]), ("forest", [folder / "forest" / "last.pt"]),
                        ("both", [sample_checkpoint, folder / "forest" / "last.pt"])):
        predict_main([arg for path in ckpts for arg in ("--ckpt", str(path))] + argv)
        lines = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip().startswith(("1.", "2."))]
        shown[name] = {line[1]: float(line[2]) for line in lines}
    for label, probability in shown["both"].items():
        assert probability == pytest.approx((shown["lstm"][label] + shown["forest"][label]) / 2, abs=2e-3)
