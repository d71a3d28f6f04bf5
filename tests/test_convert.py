import numpy as np
import pytest

from helpers import convert
from helpers.cli import run_command
from helpers.data.dataset import load_dataset
from tests.conftest import make_clip_folder, random_poses, run_convert, write_ddnet


def test_ddnet_unequal_pairs_is_a_one_line_error(tmp_path, capsys):
    files = [write_ddnet(tmp_path / f"{n}.pkl", [np.zeros((5, 15, 2))], ["a"]) for n in ("a", "b", "c")]
    assert run_convert("ddnet", "--train", files[0], "--train", files[1], "--test", files[2],
                       "--out", tmp_path / "o.pkl") == 2
    assert "give them in pairs" in capsys.readouterr().err


def test_split_file_excludes_generated_split_options(tmp_path, capsys):
    root = make_clip_folder(tmp_path / "clips", clips=2)
    (tmp_path / "s.json").write_text("{}")
    assert run_convert("folder", root, "--out", tmp_path / "o.pkl", "--split-file", tmp_path / "s.json",
                       "--seed", 1) == 2
    assert "exclude each other" in capsys.readouterr().err


def test_output_is_atomic_and_not_overwritten_by_accident(tmp_path, monkeypatch, capsys):
    root = make_clip_folder(tmp_path / "clips", clips=3)
    out = tmp_path / "out.pkl"
    assert run_convert("folder", root, "--out", out, "--dtype", "float16", "--img-shape", 240, 320) == 0
    assert "wrote" in capsys.readouterr().out
    clip = load_dataset(out).annotations[0]
    assert clip["keypoint"].dtype == np.float16 and clip["img_shape"] == (240, 320)
    before = out.read_bytes()
    assert run_convert("folder", root, "--out", out) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err

    def broken_dump(data, file, protocol=None):
        file.write(b"half a pickle")
        raise OSError("disk full")

    monkeypatch.setattr("helpers.data.dataset.pickle.dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        convert.main(["folder", str(root), "--out", str(out), "--overwrite"])
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clips", "out.pkl"]      # no temp file left


def test_converted_dataset_trains_end_to_end(tmp_path, capsys):
    from helpers import predict, train

    rng = np.random.default_rng(0)
    labels = ["clap", "wave"] * 6
    train_file = write_ddnet(tmp_path / "tr.pkl", random_poses(rng, 12), labels)
    test_file = write_ddnet(tmp_path / "te.pkl", random_poses(rng, 4), labels[:4])
    data = tmp_path / "jh.pkl"
    assert run_convert("ddnet", "--train", train_file, "--test", test_file, "--out", data) == 0
    config = tmp_path / "tiny.yaml"
    config.write_text("preprocess: {length: 16, sampling: uniform}\nmodel: {hidden_size: 16, num_layers: 1}\n"
                      "train: {epochs: 1, batch_size: 8}\n")
    run = tmp_path / "run"
    assert run_command(train.main, ["--config", str(config), "--data", str(data), "--set", "model.name=improved",
                                    "--out", str(run)]) == 0
    assert (run / "best.pt").is_file()
    assert run_command(predict.main, ["--ckpt", str(run / "best.pt"), "--input", str(data),
                                      "--clip", "wave_test1_0001"]) == 0
    assert "clip wave_test1_0001: keypoint shape (1, " in capsys.readouterr().out
