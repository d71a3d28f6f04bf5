import pickle

import numpy as np
import pytest

from helpers.data.importers import ddnet
from helpers.data.dataset import load_dataset
from helpers.errors import UserInputError
from tests.conftest import random_poses, run_convert, write_ddnet


def test_ddnet_two_splits_reuse_clips_and_sort_classes(tmp_path):
    rng = np.random.default_rng(0)
    poses = random_poses(rng, 6)
    labels = ["wave", "clap", "wave", "run", "clap", "run"]
    # split 2 re-partitions the same six videos, as JHMDB's three splits do
    files = [write_ddnet(tmp_path / "tr1.pkl", poses[:4], labels[:4]),
             write_ddnet(tmp_path / "te1.pkl", poses[4:], labels[4:]),
             write_ddnet(tmp_path / "tr2.pkl", poses[2:], labels[2:]),
             write_ddnet(tmp_path / "te2.pkl", poses[:2], labels[:2])]
    out = tmp_path / "out.pkl"
    assert run_convert("ddnet", "--train", files[0], "--test", files[1], "--train", files[2], "--test", files[3],
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
    poses = random_poses(np.random.default_rng(1), 3)
    train = write_ddnet(tmp_path / "tr.pkl", poses, ["a", "b", "a"])
    test = write_ddnet(tmp_path / "te.pkl", [poses[1]], ["b"])
    with pytest.raises(UserInputError, match=r"te\.pkl: clip #0 equals clip #1 of .*tr\.pkl.*overlap"):
        ddnet.convert_ddnet([(train, test)])


@pytest.mark.parametrize("pose, message", [
    (np.zeros((10, 15, 3)), r"clip #1.*'pose' must be an array \(T, V, 2\)"),
    ("not an array", r"clip #1.*'pose'"),
])
def test_ddnet_malformed_clip_names_file_and_clip(tmp_path, pose, message):
    good = np.zeros((10, 15, 2))
    train = write_ddnet(tmp_path / "bad.pkl", [good, pose], ["a", "b"])
    test = write_ddnet(tmp_path / "te.pkl", [good + 1], ["a"])
    with pytest.raises(UserInputError, match=r"bad\.pkl: " + message):
        ddnet.convert_ddnet([(train, test)])


def test_ddnet_refuses_unsafe_and_mismatched_files(tmp_path):
    unsafe = tmp_path / "unsafe.pkl"
    unsafe.write_bytes(pickle.dumps({"pose": [], "label": [], "x": pickle.loads}))
    with pytest.raises(UserInputError, match="unsafe.pkl: refused"):
        ddnet.read_ddnet_file(unsafe)
    short = write_ddnet(tmp_path / "short.pkl", [np.zeros((5, 15, 2))], ["a", "b"])
    with pytest.raises(UserInputError, match="short.pkl: field 'pose' has 1 clips but 'label' has 2"):
        ddnet.read_ddnet_file(short)


def test_ddnet_real_jhmdb(tmp_path, jhmdb_paths):
    train, test = jhmdb_paths
    out = tmp_path / "jhmdb.pkl"
    assert run_convert("ddnet", "--train", train, "--test", test, "--out", out) == 0
    dataset = load_dataset(out)
    assert dataset.layout.name == "jhmdb15" and dataset.num_classes == 14
    assert dataset.class_names == sorted(dataset.class_names) and "clap" in dataset.class_names
    assert (len(dataset.split["train1"]), len(dataset.split["test1"])) == (433, 176)
    assert not set(dataset.split["train1"]) & set(dataset.split["test1"])
    lengths = [clip["total_frames"] for clip in dataset.annotations]
    assert 15 <= min(lengths) and max(lengths) <= 40
