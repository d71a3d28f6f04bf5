"""Tests for helpers.data.synthetic (and the class-name lists it uses): format, determinism, splits, writer."""
from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

from helpers.data.class_names import HMDB51_CLASS_NAMES, UCF101_CLASS_NAMES
from helpers.data.dataset import load_dataset
from helpers.data.synthetic import (
    DEFAULT_CLASS_NAMES,
    generate_default_dataset,
    generate_fullsize_dataset,
    main,
)

ID = re.compile(r"^v_(?P<name>[A-Za-z]+)_g(?P<group>\d{2})_c(?P<clip>\d{2})$")
SMALL_FULL = 150  # every UCF101 class and split, 1-3 persons, in about half a second


@pytest.fixture(scope="module")
def default() -> dict:
    return generate_default_dataset(seed=0)


@pytest.fixture(scope="module")
def small_full() -> dict:
    return generate_fullsize_dataset(seed=0, num_clips=SMALL_FULL, progress=False)


def assert_same_dataset(a: dict, b: dict):
    assert a.keys() == b.keys() and a["split"] == b["split"] and a["class_names"] == b["class_names"]
    assert len(a["annotations"]) == len(b["annotations"])
    for x, y in zip(a["annotations"], b["annotations"]):
        assert x.keys() == y.keys()
        for key in x:
            if isinstance(x[key], np.ndarray):
                assert x[key].dtype == y[key].dtype and x[key].tobytes() == y[key].tobytes(), key
            else:
                assert x[key] == y[key], key


def group_of(frame_dir: str) -> int:
    return int(ID.match(frame_dir)["group"])


def check_format(data: dict, frames: tuple[int, int], max_persons: int):
    assert data["layout"] == "coco17" and data["source"].startswith("synthetic")
    names = data["class_names"]
    for clip in data["annotations"]:
        keypoint, score = clip["keypoint"], clip["keypoint_score"]
        persons, length = keypoint.shape[:2]
        assert keypoint.dtype == np.float16 and score.dtype == np.float16
        assert keypoint.shape == (persons, length, 17, 2) and score.shape == (persons, length, 17)
        assert 1 <= persons <= max_persons and frames[0] <= length <= frames[1]
        assert clip["total_frames"] == length
        assert clip["img_shape"] == (256, 340) and clip["original_shape"] == (256, 340)
        assert isinstance(clip["label"], int) and 0 <= clip["label"] < len(names)
        assert np.isfinite(keypoint).all() and ((score >= 0) & (score <= 1)).all()
        match = ID.match(clip["frame_dir"])
        assert match and 1 <= int(match["group"]) <= 25, clip["frame_dir"]
        assert match["name"] == names[clip["label"]]


def test_class_name_lists():
    assert len(UCF101_CLASS_NAMES) == 101 == len(set(UCF101_CLASS_NAMES))
    assert UCF101_CLASS_NAMES[0] == "ApplyEyeMakeup" and UCF101_CLASS_NAMES[-1] == "YoYo"
    assert UCF101_CLASS_NAMES.index("JumpingJack") == 46 and UCF101_CLASS_NAMES.index("Punch") == 70
    assert len(HMDB51_CLASS_NAMES) == 51 and list(HMDB51_CLASS_NAMES) == sorted(HMDB51_CLASS_NAMES)


def test_default_format(default):
    check_format(default, frames=(40, 300), max_persons=2)
    assert default["class_names"] == list(DEFAULT_CLASS_NAMES) and len(DEFAULT_CLASS_NAMES) >= 8
    labels = np.bincount([c["label"] for c in default["annotations"]])
    assert len(labels) == len(DEFAULT_CLASS_NAMES) and labels.min() >= 30


def test_default_is_deterministic(default):
    assert_same_dataset(default, generate_default_dataset(seed=0))
    other = generate_default_dataset(seed=1)
    assert any(a["keypoint"].shape != b["keypoint"].shape or not np.array_equal(a["keypoint"], b["keypoint"])
               for a, b in zip(default["annotations"], other["annotations"]))


def test_default_split_follows_ucf101_rule(default):
    train, test = default["split"]["train1"], default["split"]["test1"]
    assert set(default["split"]) == {"train1", "test1"}
    assert {group_of(d) for d in train} == set(range(8, 26))
    assert {group_of(d) for d in test} == set(range(1, 8))
    assert not set(train) & set(test)
    assert sorted(train + test) == sorted(c["frame_dir"] for c in default["annotations"])
    assert 240 <= len(train) <= 330 and 90 <= len(test) <= 150


def test_default_has_detector_artefacts(default):
    clips = default["annotations"]
    two_person = [c for c in clips if c["keypoint"].shape[0] == 2]
    assert 0.08 <= len(two_person) / len(clips) <= 0.25
    missed = 0
    for clip in clips:
        empty = clip["keypoint_score"].sum(axis=-1) == 0  # (M, T): nobody in that slot and frame
        assert not clip["keypoint"][empty].any(), "a missed detection must have zero keypoints too"
        missed += bool(empty[0].any())
    assert missed >= 0.1 * len(clips)
    scores = np.concatenate([s[s.sum(-1) > 0].ravel() for s in (c["keypoint_score"][0] for c in clips)])
    assert 0.6 < np.median(scores.astype(float)) < 0.95 and (scores < 0.3).mean() > 0.01


def test_default_groups_share_their_actor(default):
    """Person size varies much less within a group than between groups (actors are per group)."""
    sizes = {}
    for clip in default["annotations"]:
        keypoint, score = clip["keypoint"][0].astype(float), clip["keypoint_score"][0].astype(float)
        seen = score.sum(-1) > 0
        top, bottom = keypoint[seen][:, :, 1].min(-1), keypoint[seen][:, :, 1].max(-1)
        sizes.setdefault((clip["label"], group_of(clip["frame_dir"])), []).append(np.median(bottom - top))
    pairs = [np.log(v) for v in sizes.values() if len(v) == 2]
    within = np.mean([abs(a - b) for a, b in pairs])
    means = np.array([np.mean(p) for p in pairs])
    between = np.mean(np.abs(means[:, None] - means[None]))
    assert within < 0.5 * between


def test_fullsize_small(small_full):
    data = small_full
    check_format(data, frames=(30, 900), max_persons=3)
    assert data["class_names"] == list(UCF101_CLASS_NAMES)
    assert len(data["annotations"]) == SMALL_FULL
    assert {c["label"] for c in data["annotations"]} == set(range(101))
    assert {c["keypoint"].shape[0] for c in data["annotations"]} >= {1, 2}
    ids = sorted(c["frame_dir"] for c in data["annotations"])
    assert set(data["split"]) == {f"{kind}{k}" for kind in ("train", "test") for k in (1, 2, 3)}
    for k in (1, 2, 3):
        train, test = data["split"][f"train{k}"], data["split"][f"test{k}"]
        test_groups = set(range(7 * k - 6, 7 * k + 1))
        assert all(group_of(d) in test_groups for d in test)
        assert not any(group_of(d) in test_groups for d in train)
        assert sorted(train + test) == ids


def test_fullsize_person_slots_are_like_the_pyskl_ucf101_pickles(small_full):
    slots = np.array([c["keypoint"].shape[0] for c in small_full["annotations"]])
    shares = np.bincount(slots, minlength=4)[1:] / len(slots)  # 1, 2, 3 slots: about 30%, 30%, 40%
    assert np.all(np.abs(shares - [0.3, 0.3, 0.4]) < 0.1) and 1.9 < slots.mean() < 2.4
    extra = np.concatenate([(c["keypoint_score"][1:].sum(-1) == 0).ravel()  # (M-1)*T: empty slot-frames
                            for c in small_full["annotations"] if c["keypoint"].shape[0] > 1])
    assert 0.1 < extra.mean() < 0.9  # extra slots are partly zero-filled (bystanders, missed frames)


def test_fullsize_is_deterministic_and_sized_like_ucf101(small_full):
    assert_same_dataset(small_full, generate_fullsize_dataset(seed=0, num_clips=SMALL_FULL, progress=False))
    lengths = [c["total_frames"] for c in small_full["annotations"]]
    assert 120 < np.mean(lengths) < 260


def test_written_file_round_trips(tmp_path, default):
    path = main(["--out", str(tmp_path / "new" / "folder" / "synthetic.pkl")])
    with open(path, "rb") as file:
        assert_same_dataset(pickle.load(file), default)
    assert len(load_dataset(path).annotations) == len(default["annotations"])  # the project's safe loader


def test_command_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0 and "--num-clips" in capsys.readouterr().out
    path = main(["--out", str(tmp_path / "full.pkl"), "--full", "--num-clips", "101", "--seed", "3"])
    data = load_dataset(path)
    assert len(data.annotations) == 101 and data.num_classes == 101


def test_default_dataset_file_follows_the_generator_source(tmp_path, monkeypatch):
    """A changed generator must never leave a stale default dataset in use."""
    import helpers.data.synthetic
    from helpers.data.source import default_dataset_path

    monkeypatch.setenv("SKELETON_ACTIONS_DATA", str(tmp_path))
    calls = []
    monkeypatch.setattr(helpers.data.synthetic, "generate_default_dataset", lambda seed: calls.append(seed) or
                        {"split": {}, "annotations": []})
    first = default_dataset_path(verbose=False)
    assert default_dataset_path(verbose=False) == first and calls == [0]     # generated once, then reused
    from helpers.data.source import is_default_dataset

    assert is_default_dataset(first) and not is_default_dataset(tmp_path / "ucf101_2d.pkl")
    fake_source = tmp_path / "synthetic.py"
    fake_source.write_text("# another generator\n")
    monkeypatch.setattr(helpers.data.synthetic, "__file__", str(fake_source))
    second = default_dataset_path(verbose=False)
    assert second != first and calls == [0, 0] and not first.exists()      # regenerated, stale file removed


def test_fullsize_with_four_mean_slots_is_as_large_as_the_real_file():
    data = generate_fullsize_dataset(seed=0, num_clips=SMALL_FULL, progress=False, mean_slots=4)
    slots = np.array([c["keypoint"].shape[0] for c in data["annotations"]])
    assert 3.5 < slots.mean() < 4.5 and slots.min() >= 1 and slots.max() <= 7
    slot_frames = sum(c["keypoint"].shape[0] * c["keypoint"].shape[1] for c in data["annotations"])
    # float16 keypoint (V, 2) + score (V,): 17 * 3 * 2 bytes per slot and frame; the real file is ~1 GB
    mib_at_full_size = slot_frames * 17 * 3 * 2 / 2**20 * 13320 / SMALL_FULL
    assert 800 < mib_at_full_size < 1300, mib_at_full_size
