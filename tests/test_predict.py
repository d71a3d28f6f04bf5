"""`python -m helpers.predict` end to end on the real UCF101 sample and real push-up videos, and its input
errors and warnings."""
import csv
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

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
        (predict_main, ["--ckpt", ckpt, "--input", sample, "--window", "10"], "--window applies to --video only"),
        (predict_main, ["--ckpt", ckpt, "--video", str(evil)], "cannot be read as a video"),
        (predict_main, ["--ckpt", ckpt, "--video", str(tmp_path / "none.mp4")], "video file not found"),
        (predict_main, ["--ckpt", ckpt, "--video", str(evil), "--render", "x.avi"], "can only write .mp4 or .gif"),
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


def test_missing_or_mistyped_clip_lists_the_ids_and_a_close_match(sample_checkpoint, ucf_sample_path, capsys):
    from helpers.cli import run_command

    ckpt, sample = str(sample_checkpoint), str(ucf_sample_path)
    assert run_command(predict_main, ["--ckpt", ckpt, "--input", sample]) == 2
    err = capsys.readouterr().err
    assert "holds 6 clips; choose one with --clip FRAME_DIR: v_ApplyEyeMakeup_g01_c01, v_ApplyEyeMakeup_g01_c02, " in err
    assert run_command(predict_main, ["--ckpt", ckpt, "--input", sample, "--clip", "v_ApplyEyeMakeup_g1_c01"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'v_ApplyEyeMakeup_g01_c01'?" in err and "Clips: v_ApplyEyeMakeup_g01_c01" in err
    assert len(err.strip().splitlines()) == 1


def test_true_label_and_warnings_when_the_checkpoint_does_not_fit(sample_checkpoint, ucf_sample_path, tmp_path,
                                                                 capsys):
    from helpers.paths import synthetic_dataset_path

    args = ["--input", str(ucf_sample_path), "--clip", "v_ApplyEyeMakeup_g01_c01"]
    predict_main(["--ckpt", str(sample_checkpoint), *args])
    captured = capsys.readouterr()
    assert "true label: ApplyEyeMakeup (predicted " in captured.out and "warning" not in captured.err
    # the same weights as if trained on the built-in synthetic classes (e.g. the notebook series' models)
    state = torch.load(sample_checkpoint, weights_only=True)
    state["class_names"] = ["Bowing", "Clapping"]
    state["data_source"] = str(synthetic_dataset_path().with_name("synthetic_default-0123456789.pkl"))
    synthetic = tmp_path / "synthetic.pt"
    torch.save(state, synthetic)
    predict_main(["--ckpt", str(synthetic), *args])
    captured = capsys.readouterr()
    assert "trained on the built-in SYNTHETIC dataset (classes Bowing, Clapping)" in captured.err
    assert "the input's classes (ApplyEyeMakeup, ApplyLipstick, Archery, BabyCrawling, ... (101 classes))" in captured.err
    assert "true label: ApplyEyeMakeup (not one of the checkpoint's classes)" in captured.out


def test_a_training_clip_of_the_checkpoints_own_file_is_flagged(sample_checkpoint, capsys):
    source = torch.load(sample_checkpoint, weights_only=True)["data_source"]
    clip = load_dataset(source).split["train1"][0]
    predict_main(["--ckpt", str(sample_checkpoint), "--input", source, "--clip", clip])
    assert f"clip {clip} is in train1 of {source}, on which the checkpoint was trained" in capsys.readouterr().err


def test_without_input_the_clip_comes_from_the_checkpoints_own_dataset(sample_checkpoint, capsys):
    source = torch.load(sample_checkpoint, weights_only=True)["data_source"]
    clip = load_dataset(source).split["test1"][0]
    predict_main(["--ckpt", str(sample_checkpoint), "--clip", clip, "--top-k", "2"])
    with_input = capsys.readouterr().out
    predict_main(["--ckpt", str(sample_checkpoint), "--input", source, "--clip", clip, "--top-k", "2"])
    assert with_input == capsys.readouterr().out and f"clip {clip}:" in with_input
    from helpers.cli import run_command

    assert run_command(predict_main, ["--ckpt", str(sample_checkpoint), "--clip", "v_Nope_g01_c01"]) == 2
    assert "no clip with frame_dir 'v_Nope_g01_c01'" in capsys.readouterr().err


# ---- videos ------------------------------------------------------------------------

def test_predict_a_long_real_video_with_timeline_csv_and_rendering(pushfit_checkpoint, tmp_path, capsys):
    from tests.conftest import pushfit_video

    video = pushfit_video("wrong106")                         # 300 frames, 30 fps, 854x480, 10 s
    out, render = tmp_path / "timeline.csv", tmp_path / "render.gif"
    assert predict_main(["--ckpt", str(pushfit_checkpoint), "--video", str(video), "--window", "60",
                         "--stride", "30", "--out", str(out), "--render", str(render)]) == 0
    printed = capsys.readouterr().out
    assert "wrong106.mp4: 300 frames (10.0 s) at 30.00 fps, 854x480, a person in " in printed
    assert "whole clip (300 frames):" in printed and "true label: wrong (predicted " in printed
    assert "timeline: windows of 60 frames (2.00 s), one every 30 frames" in printed
    rows = list(csv.DictReader(out.open()))
    assert [(int(r["start_frame"]), int(r["end_frame"])) for r in rows] == [(s, s + 60) for s in range(0, 241, 30)]
    assert {r["label"] for r in rows} <= {"correct", "wrong"} and float(rows[0]["end_s"]) == pytest.approx(2.0)
    assert float(rows[3]["p_correct"]) + float(rows[3]["p_wrong"]) == pytest.approx(1.0, abs=1e-3)
    from PIL import Image

    gif = Image.open(render)
    assert gif.n_frames == 100 and gif.size == (480, 270)     # 30 fps thinned to at most 10: every 3rd frame


def test_a_video_read_as_a_stream_takes_the_camera_path(pushfit_checkpoint, tmp_path, capsys):
    from helpers.pose.blazepose import BlazePose
    from helpers.pose.extract import extract_video
    from helpers.video.reader import read_frames
    from tests.conftest import pushfit_video

    video = pushfit_video("wrong101")                         # 57 frames at 25 fps, 320x240
    render = tmp_path / "stream.mp4"
    assert predict_main(["--ckpt", str(pushfit_checkpoint), "--video", str(video), "--stream",
                         "--max-seconds", "1.2", "--window", "64", "--render", str(render)]) == 0
    printed = capsys.readouterr().out
    assert "wrong101.mp4: 30 frames (1.2 s) at 25.00 fps, 320x240" in printed and "from the cache" not in printed
    assert "timeline" not in printed and "true label: wrong" in printed          # 30 frames: within one window
    frames = read_frames(render)
    assert len(frames) == 30 and frames[0].shape == (240, 320, 3)
    original = read_frames(video, [5])[0].astype(int)
    assert np.abs(frames[5].astype(int) - original).mean() > 1.0                # skeleton and caption drawn
    whole = extract_video(video, BlazePose())                 # the file path, from the cache
    streamed = BlazePose().estimate(read_frames(video)[:30])[0]
    np.testing.assert_allclose(whole.keypoint[:30], streamed, atol=0.01)


def test_a_video_without_anybody_is_refused(pushfit_checkpoint, tmp_path, capsys):
    from helpers.cli import run_command
    from tests.conftest import require_mediapipe, write_test_video

    require_mediapipe()
    blank = write_test_video(tmp_path / "blank.mp4", frames=8, size=(120, 160), brightness=90)
    assert run_command(predict_main, ["--ckpt", str(pushfit_checkpoint), "--video", str(blank)]) == 2
    assert "blank.mp4: nobody detected in any of its 8 frames" in capsys.readouterr().err


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


def test_clip_ids_and_class_names_are_printed_escaped(tmp_path, capsys):
    """An id with a newline or a terminal escape code once reached the terminal raw."""
    import numpy as np

    from tests.hostile import run_main, tiny_checkpoint

    checkpoint = tiny_checkpoint(tmp_path / "best.pt", class_names=("walk\x1b[2J", "run\nfast", "sit"))
    clip = {"frame_dir": "evil\n\x1b[31mred", "label": 0, "keypoint": np.ones((1, 10, 17, 2), np.float32)}
    (tmp_path / "clip.pkl").write_bytes(pickle.dumps(clip))
    code, out, err = run_main(predict_main, ["--ckpt", checkpoint, "--input", tmp_path / "clip.pkl"], capsys)
    assert code == 0 and "\x1b" not in out and "clip evil\\n\\x1b[31mred: keypoint shape (1, 10, 17, 2)" in out
    assert "walk\\x1b[2J" in out and "run\\nfast" in out
