import json
import pickle

import numpy as np
import pytest

from helpers import convert
from helpers.cli import run_command
from helpers.dataset import load_dataset
from helpers.errors import UserInputError
from helpers.splits import group_of


def _write_ddnet(path, poses, labels):
    with open(path, "wb") as file:
        pickle.dump({"pose": poses, "label": labels}, file)
    return path


def _poses(rng, count, joints=15):
    return [rng.normal(size=(int(rng.integers(15, 40)), joints, 2)) for _ in range(count)]


def _convert(*argv):
    """Run the command; returns its exit code."""
    return run_command(convert.main, [str(a) for a in argv])


# ----------------------------------------------------------------------------- ddnet


def test_ddnet_two_splits_reuse_clips_and_sort_classes(tmp_path):
    rng = np.random.default_rng(0)
    poses = _poses(rng, 6)
    labels = ["wave", "clap", "wave", "run", "clap", "run"]
    # split 2 re-partitions the same six videos, as JHMDB's three splits do
    files = [_write_ddnet(tmp_path / "tr1.pkl", poses[:4], labels[:4]),
             _write_ddnet(tmp_path / "te1.pkl", poses[4:], labels[4:]),
             _write_ddnet(tmp_path / "tr2.pkl", poses[2:], labels[2:]),
             _write_ddnet(tmp_path / "te2.pkl", poses[:2], labels[:2])]
    out = tmp_path / "out.pkl"
    assert _convert("ddnet", "--train", files[0], "--test", files[1], "--train", files[2], "--test", files[3],
                    "--out", out) == 0
    dataset = load_dataset(out)
    assert dataset.class_names == ["clap", "run", "wave"]
    assert dataset.layout.name == "jhmdb15"
    assert len(dataset.annotations) == 6            # every video stored once
    assert set(dataset.split) == {"train1", "test1", "train2", "test2"}
    assert dataset.split["train1"][0] == "wave_train1_0000"
    assert set(dataset.split["train2"]) | set(dataset.split["test2"]) == \
        set(dataset.split["train1"]) | set(dataset.split["test1"])
    for name in ("train1", "test1", "train2", "test2"):
        side, number = name[:-1], int(name[-1])
        source = files[2 * (number - 1) + (side == "test")]
        data = pickle.loads(source.read_bytes())
        for frame_dir, pose, label in zip(dataset.split[name], data["pose"], data["label"]):
            clip = dataset.clip(frame_dir)
            assert dataset.class_names[clip["label"]] == label
            np.testing.assert_allclose(clip["keypoint"][0], pose, rtol=1e-6)
    clip = dataset.annotations[0]
    assert clip["keypoint"].dtype == np.float32 and clip["keypoint"].shape[-1] == 2
    assert clip["keypoint_score"].shape == clip["keypoint"].shape[:3] and (clip["keypoint_score"] == 1).all()
    assert clip["total_frames"] == clip["keypoint"].shape[1]


def test_ddnet_refuses_test_clip_repeated_from_train(tmp_path):
    poses = _poses(np.random.default_rng(1), 3)
    train = _write_ddnet(tmp_path / "tr.pkl", poses, ["a", "b", "a"])
    test = _write_ddnet(tmp_path / "te.pkl", [poses[1]], ["b"])
    with pytest.raises(UserInputError, match=r"te\.pkl: clip #0 equals clip #1 of .*tr\.pkl.*overlap"):
        convert.convert_ddnet([(train, test)])


@pytest.mark.parametrize("pose, message", [
    (np.zeros((10, 15, 3)), r"clip #1.*'pose' must be an array \(T, V, 2\)"),
    ("not an array", r"clip #1.*'pose'"),
])
def test_ddnet_malformed_clip_names_file_and_clip(tmp_path, pose, message):
    good = np.zeros((10, 15, 2))
    train = _write_ddnet(tmp_path / "bad.pkl", [good, pose], ["a", "b"])
    test = _write_ddnet(tmp_path / "te.pkl", [good + 1], ["a"])
    with pytest.raises(UserInputError, match=r"bad\.pkl: " + message):
        convert.convert_ddnet([(train, test)])


def test_ddnet_refuses_unsafe_and_mismatched_files(tmp_path):
    unsafe = tmp_path / "unsafe.pkl"
    unsafe.write_bytes(pickle.dumps({"pose": [], "label": [], "x": pickle.loads}))
    with pytest.raises(UserInputError, match="unsafe.pkl: refused"):
        convert.read_ddnet_file(unsafe)
    short = _write_ddnet(tmp_path / "short.pkl", [np.zeros((5, 15, 2))], ["a", "b"])
    with pytest.raises(UserInputError, match="short.pkl: field 'pose' has 1 clips but 'label' has 2"):
        convert.read_ddnet_file(short)


def test_ddnet_real_jhmdb(tmp_path, jhmdb_paths):
    train, test = jhmdb_paths
    out = tmp_path / "jhmdb.pkl"
    assert _convert("ddnet", "--train", train, "--test", test, "--out", out) == 0
    dataset = load_dataset(out)
    assert dataset.layout.name == "jhmdb15" and dataset.num_classes == 14
    assert dataset.class_names == sorted(dataset.class_names) and "clap" in dataset.class_names
    assert (len(dataset.split["train1"]), len(dataset.split["test1"])) == (433, 176)
    assert not set(dataset.split["train1"]) & set(dataset.split["test1"])
    lengths = [clip["total_frames"] for clip in dataset.annotations]
    assert 15 <= min(lengths) and max(lengths) <= 40


def test_ddnet_unequal_pairs_is_a_one_line_error(tmp_path, capsys):
    files = [_write_ddnet(tmp_path / f"{n}.pkl", [np.zeros((5, 15, 2))], ["a"]) for n in ("a", "b", "c")]
    assert _convert("ddnet", "--train", files[0], "--train", files[1], "--test", files[2],
                    "--out", tmp_path / "o.pkl") == 2
    assert "give them in pairs" in capsys.readouterr().err


# ----------------------------------------------------------------------------- folder formats


def _frames(rng, frames=6, joints=15):
    return rng.uniform(0, 100, size=(frames, joints, 3)).round(3)   # (T, V, x/y/score)


@pytest.mark.parametrize("encoding", ["xy", "xys", "dict", "keypoints_dict"])
def test_json_joint_encodings(tmp_path, encoding):
    array = _frames(np.random.default_rng(0))
    encode = {
        "xy": lambda f: [[x, y] for x, y, _ in f],
        "xys": lambda f: [[x, y, s] for x, y, s in f],
        "dict": lambda f: [{"x": x, "y": y, "score": s} for x, y, s in f],
        "keypoints_dict": lambda f: {"keypoints": [[x, y, s] for x, y, s in f]},
    }[encoding]
    path = tmp_path / "clip.json"
    path.write_text(json.dumps([encode(frame.tolist()) for frame in array]))
    keypoint, score = convert.read_clip_file(path)
    assert keypoint.shape == (1, 6, 15, 2) and score.shape == (1, 6, 15)
    np.testing.assert_allclose(keypoint[0], array[..., :2])
    np.testing.assert_allclose(score[0], 1.0 if encoding == "xy" else array[..., 2])


def test_json_missing_joint_and_nan(tmp_path):
    path = tmp_path / "clip.json"
    path.write_text(json.dumps([[[1, 2, 0.9], None], [[3, 4], {"x": 5, "y": 6}]]))
    keypoint, score = convert.read_clip_file(path)
    assert score[0].tolist() == [[0.9, 0.0], [1.0, 1.0]] and keypoint[0, 0, 1].tolist() == [0, 0]
    array = np.ones((4, 17, 2))
    array[1, 3] = np.nan
    np.save(tmp_path / "nan.npy", array)
    keypoint, score = convert.read_clip_file(tmp_path / "nan.npy")
    assert score[0, 1, 3] == 0 and (keypoint[0, 1, 3] == 0).all() and score.sum() == 4 * 17 - 1


@pytest.mark.parametrize("content, message", [
    ("[[[1, 2], [3, 4]]", "not valid JSON"),
    ('{"frames": []}', "expected a non-empty JSON list of frames"),
    ("[[[1, 2]], [[1, 2], [3, 4]]]", "frame 1 has 2 joints but frame 0 has 1"),
    ('[[[1, "a"]]]', "frame 0, joint 0: expected a number"),
    ('[{"points": []}]', "frame 0: a frame dict needs a 'keypoints' list"),
])
def test_malformed_json_names_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(UserInputError, match=f"bad.json: .*{message}"):
        convert.read_clip_file(path)


@pytest.mark.parametrize("shape", [(7, 17, 2), (7, 17, 3), (2, 7, 17, 2), (2, 7, 17, 3)])
def test_numpy_npy_and_npz_3d_and_4d(tmp_path, shape):
    array = np.random.default_rng(0).uniform(0.1, 1, size=shape).astype(np.float32)
    np.save(tmp_path / "a.npy", array)
    np.savez(tmp_path / "single.npz", whatever=array)
    np.savez(tmp_path / "named.npz", keypoints=array, other=np.zeros(3))
    persons = shape[0] if len(shape) == 4 else 1
    for name in ("a.npy", "single.npz", "named.npz"):
        keypoint, score = convert.read_clip_file(tmp_path / name)
        assert keypoint.shape == (persons, 7, 17, 2) and score.shape == (persons, 7, 17)
        np.testing.assert_allclose(keypoint.reshape(array[..., :2].shape), array[..., :2], rtol=1e-6)
        if shape[-1] == 3:
            np.testing.assert_allclose(score.reshape(array.shape[:-1]), array[..., 2], rtol=1e-6)
        else:
            assert (score == 1).all()


def test_npz_with_keypoint_score_and_bad_numpy_files(tmp_path):
    np.savez(tmp_path / "scored.npz", keypoint=np.ones((1, 4, 15, 2)), keypoint_score=np.full((1, 4, 15), 0.5))
    assert (convert.read_clip_file(tmp_path / "scored.npz")[1] == 0.5).all()
    np.savez(tmp_path / "two.npz", a=np.ones((4, 15, 2)), b=np.ones((4, 15, 2)))
    with pytest.raises(UserInputError, match=r"two.npz: holds arrays \['a', 'b'\]"):
        convert.read_clip_file(tmp_path / "two.npz")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(UserInputError, match="objects.npy: not a readable NumPy file"):
        convert.read_clip_file(tmp_path / "objects.npy")
    np.save(tmp_path / "flat.npy", np.ones((4, 15)))
    with pytest.raises(UserInputError, match=r"flat.npy: expected keypoints shaped .* got \(4, 15\)"):
        convert.read_clip_file(tmp_path / "flat.npy")


# ----------------------------------------------------------------------------- folders and layouts


def _make_folder(root, classes=("jump", "sit", "wave"), clips=10, joints=17, grouped=False, seed=0):
    rng = np.random.default_rng(seed)
    for class_name in classes:
        (root / class_name).mkdir(parents=True)
        for index in range(clips):
            stem = f"v_{class_name}_g{index // 2 + 1:02d}_c{index % 2 + 1:02d}" if grouped else f"clip{index:02d}"
            np.save(root / class_name / f"{stem}.npy", rng.uniform(0, 100, size=(12, joints, 3)))
    return root


@pytest.mark.parametrize("joints, layout", [(15, "jhmdb15"), (17, "coco17"), (18, "openpose18")])
def test_layout_inferred_from_joint_count(tmp_path, joints, layout):
    _make_folder(tmp_path / "clips", clips=3, joints=joints)
    data = convert.convert_folder(tmp_path / "clips")
    assert data["layout"] == layout
    assert data["class_names"] == ["jump", "sit", "wave"]
    assert data["annotations"][0]["frame_dir"] == "jump/clip00"


def test_unknown_joint_count_names_file_and_how_to_declare(tmp_path, capsys):
    _make_folder(tmp_path / "clips", clips=2, joints=13)
    assert _convert("folder", tmp_path / "clips", "--out", tmp_path / "o.pkl") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "clip00.npy" in err and "13 joints" in err
    assert "--layout" in err and "declare a new Layout in helpers/layouts.py" in err
    with pytest.raises(UserInputError, match="has 13 joints but layout coco17 has 17"):
        convert.convert_folder(tmp_path / "clips", layout_name="coco17")
    with pytest.raises(UserInputError, match="unknown skeleton layout 'nope'"):
        convert.convert_folder(tmp_path / "clips", layout_name="nope")


def test_layout_option_and_inconsistent_joint_counts(tmp_path):
    root = _make_folder(tmp_path / "clips", clips=2, joints=15)
    assert convert.convert_folder(root, layout_name="JHMDB-15")["layout"] == "jhmdb15"
    np.save(root / "sit" / "odd.npy", np.ones((5, 17, 2)))
    with pytest.raises(UserInputError, match=r"inconsistent joint counts: .*clip00.npy has 15 joints, .*odd.npy has 17"):
        convert.convert_folder(root)


def test_empty_and_missing_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="empty: no clip files found"):
        convert.convert_folder(tmp_path / "empty")
    (tmp_path / "empty" / "wave").mkdir()
    (tmp_path / "empty" / "wave" / "notes.txt").write_text("x")
    with pytest.raises(UserInputError, match="wave: class folder has no clip files"):
        convert.convert_folder(tmp_path / "empty")
    with pytest.raises(UserInputError, match="missing: folder not found"):
        convert.convert_folder(tmp_path / "missing")


def test_generated_split_is_seeded_and_stratified(tmp_path):
    root = _make_folder(tmp_path / "clips", clips=10)
    first = convert.convert_folder(root, seed=3)["split"]
    assert first == convert.convert_folder(root, seed=3)["split"]
    assert first != convert.convert_folder(root, seed=4)["split"]
    assert not set(first["train1"]) & set(first["test1"])
    assert len(first["train1"]) + len(first["test1"]) == 30
    for class_name in ("jump", "sit", "wave"):
        assert sum(i.startswith(class_name + "/") for i in first["test1"]) == 3      # 30% of 10


def test_generated_split_keeps_groups_whole(tmp_path):
    root = _make_folder(tmp_path / "clips", clips=10, grouped=True)    # groups g01..g05, 2 clips each
    split = convert.convert_folder(root, test_fraction=0.3, seed=0)["split"]
    train_groups = {group_of(i) for i in split["train1"]}
    test_groups = {group_of(i) for i in split["test1"]}
    assert test_groups and not train_groups & test_groups
    assert 0.2 <= len(split["test1"]) / 30 <= 0.45


def test_split_file_json_and_text(tmp_path):
    root = _make_folder(tmp_path / "clips", classes=("jump", "sit"), clips=2)
    json_file = tmp_path / "splits.json"
    json_file.write_text(json.dumps({"train1": ["jump/clip00", "sit/clip00.npy"], "test1": ["jump/clip01"]}))
    split = convert.convert_folder(root, split_file=json_file)["split"]
    assert split == {"train1": ["jump/clip00", "sit/clip00"], "test1": ["jump/clip01"]}
    text_file = tmp_path / "splits.txt"
    text_file.write_text("# split clip\ntrain1 jump/clip00\n\ntest1 sit/clip01\n")
    assert convert.convert_folder(root, split_file=text_file)["split"] == {"train1": ["jump/clip00"],
                                                                           "test1": ["sit/clip01"]}
    text_file.write_text("train1 clip00\n")
    with pytest.raises(UserInputError, match="splits.txt: split 'train1': 'clip00' matches several clips"):
        convert.convert_folder(root, split_file=text_file)
    text_file.write_text("train1 jump/nope\n")
    with pytest.raises(UserInputError, match="splits.txt: split 'train1': unknown clip 'jump/nope'"):
        convert.convert_folder(root, split_file=text_file)
    json_file.write_text(json.dumps({"train1": ["jump/clip00"], "test1": ["jump/clip00"]}))
    with pytest.raises(UserInputError, match="splits.json: 1 clips are in both train1 and test1"):
        convert.convert_folder(root, split_file=json_file)


def test_split_file_excludes_generated_split_options(tmp_path, capsys):
    root = _make_folder(tmp_path / "clips", clips=2)
    (tmp_path / "s.json").write_text("{}")
    assert _convert("folder", root, "--out", tmp_path / "o.pkl", "--split-file", tmp_path / "s.json",
                    "--seed", 1) == 2
    assert "exclude each other" in capsys.readouterr().err


# ----------------------------------------------------------------------------- output


def test_output_is_atomic_and_not_overwritten_by_accident(tmp_path, monkeypatch, capsys):
    root = _make_folder(tmp_path / "clips", clips=3)
    out = tmp_path / "out.pkl"
    assert _convert("folder", root, "--out", out, "--dtype", "float16", "--img-shape", 240, 320) == 0
    assert "wrote" in capsys.readouterr().out
    clip = load_dataset(out).annotations[0]
    assert clip["keypoint"].dtype == np.float16 and clip["img_shape"] == (240, 320)
    before = out.read_bytes()
    assert _convert("folder", root, "--out", out) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err

    def broken_dump(data, file, protocol=None):
        file.write(b"half a pickle")
        raise OSError("disk full")

    monkeypatch.setattr("helpers.dataset.pickle.dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        convert.main(["folder", str(root), "--out", str(out), "--overwrite"])
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clips", "out.pkl"]      # no temp file left


def test_converted_dataset_trains_end_to_end(tmp_path, capsys):
    from helpers import predict, train

    rng = np.random.default_rng(0)
    labels = ["clap", "wave"] * 6
    train_file = _write_ddnet(tmp_path / "tr.pkl", _poses(rng, 12), labels)
    test_file = _write_ddnet(tmp_path / "te.pkl", _poses(rng, 4), labels[:4])
    data = tmp_path / "jh.pkl"
    assert _convert("ddnet", "--train", train_file, "--test", test_file, "--out", data) == 0
    config = tmp_path / "tiny.yaml"
    config.write_text("preprocess: {length: 16, sampling: uniform}\nmodel: {hidden_size: 16, num_layers: 1}\n"
                      "train: {epochs: 1, batch_size: 8}\n")
    run = tmp_path / "run"
    assert run_command(train.main, ["--config", str(config), "--data", str(data), "--model", "improved",
                                    "--out", str(run)]) == 0
    assert (run / "best.pt").is_file()
    assert run_command(predict.main, ["--ckpt", str(run / "best.pt"), "--input", str(data),
                                      "--clip", "wave_test1_0001"]) == 0
    assert "clip wave_test1_0001: keypoint shape (1, " in capsys.readouterr().out
