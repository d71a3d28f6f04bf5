"""`convert videos`: folders of videos to a dataset, bad videos named, the cache, workers, and the real sample."""
import numpy as np
import pytest

from helpers.config import DataConfig
from helpers.data.dataset import validate_dataset
from helpers.data.importers.videos import convert_videos, find_videos
from helpers.data.source import open_dataset
from helpers.errors import UserInputError
from tests.conftest import FakeEstimator, run_convert, write_test_video


def _video_folder(root, broken=True, dark=True):
    """ROOT/jump/*.mp4 and ROOT/sit/*.mp4, three videos each, plus a broken file and a video with nobody."""
    for name in ("jump", "sit"):
        for index in range(3):
            write_test_video(root / name / f"{name}{index}.mp4", frames=6 + 2 * index + (name == "sit"))
    if broken:
        (root / "sit" / "broken.mp4").write_bytes(b"not a video")
    if dark:
        write_test_video(root / "jump" / "dark.MOV", frames=4, brightness=5)
    (root / "jump" / "notes.txt").write_text("ignored")
    return root


def test_folder_to_dataset_with_bad_videos_named(tmp_path):
    root = _video_folder(tmp_path / "videos")
    classes, files, ignored = find_videos(root)
    assert classes == ["jump", "sit"] and len(files) == 8 and [p.name for p in ignored] == ["notes.txt"]
    estimator = FakeEstimator(offset=0.25)      # settings of its own: nothing of this test in the cache yet
    data, report = convert_videos(root, estimator, test_fraction=0.34, seed=0, progress=False)
    dataset = validate_dataset(data, "videos")
    assert len(dataset.annotations) == 6 and dataset.class_names == ["jump", "sit"]
    assert dataset.layout.name == "coco17" and data["pose_estimator"] == {"estimator": "fake", "offset": 0.25}
    assert sorted(report.skipped) == [str(root / "jump" / "dark.MOV"), str(root / "sit" / "broken.mp4")]
    assert report.skipped[str(root / "jump" / "dark.MOV")] == "nobody detected in any of its 4 frames"
    assert "cannot be read as a video" in report.skipped[str(root / "sit" / "broken.mp4")]
    assert "skipped 2" in report.summary() and "6 estimated now" in report.summary()
    clip = dataset.clip("sit/sit2")
    assert clip["label"] == 1 and clip["keypoint"].shape == (1, 11, 17, 2) and clip["total_frames"] == 11
    assert clip["img_shape"] == (48, 64) and clip["fps"] == 25.0 and clip["source"] == str(root / "sit" / "sit2.mp4")
    assert sorted(data["split"]["train1"] + data["split"]["test1"]) == sorted(c["frame_dir"] for c in data["annotations"])
    assert {dataset.clip(i)["label"] for i in data["split"]["test1"]} == {0, 1}    # stratified by class


def test_strict_stops_at_the_first_unusable_video(tmp_path):
    root = _video_folder(tmp_path / "videos", dark=False)
    with pytest.raises(UserInputError, match=r"broken.mp4: cannot be read as a video.*--strict"):
        convert_videos(root, FakeEstimator(), strict=True, progress=False)


def test_a_second_run_estimates_nothing_and_workers_agree(tmp_path):
    root = _video_folder(tmp_path / "videos", broken=False, dark=False)
    estimator = FakeEstimator(offset=1.5)        # settings of its own: the cache has none of these yet
    first, report = convert_videos(root, estimator, progress=False, workers=2)   # two spawned processes
    assert report.workers == 2 and len(report.extracted) == 6
    calls = FakeEstimator.calls
    again, report = convert_videos(root, estimator, progress=False, workers=2)
    assert FakeEstimator.calls == calls and len(report.cached) == 6 and not report.extracted
    alone, _ = convert_videos(root, estimator, progress=False, workers=1, use_cache=False)
    assert FakeEstimator.calls == calls + sum(c["total_frames"] for c in alone["annotations"])
    for a, b, c in zip(first["annotations"], again["annotations"], alone["annotations"]):
        assert a["frame_dir"] == b["frame_dir"] == c["frame_dir"]
        np.testing.assert_array_equal(a["keypoint"], c["keypoint"])
        np.testing.assert_array_equal(b["keypoint"], c["keypoint"])
    assert first["split"] == again["split"] == alone["split"]


def test_split_file_and_argument_errors(tmp_path):
    root = _video_folder(tmp_path / "videos", broken=False)
    split = tmp_path / "split.txt"
    split.write_text("train1 jump0.mp4\ntrain1 sit0\ntrain1 jump/dark\ntest1 jump1\ntest1 sit/sit1\n")
    data, report = convert_videos(root, FakeEstimator(), split_file=split, progress=False)
    assert data["split"] == {"train1": ["jump/jump0", "sit/sit0"], "test1": ["jump/jump1", "sit/sit1"]}
    split.write_text("train1 nothing\n")
    with pytest.raises(UserInputError, match="unknown clip 'nothing'"):
        convert_videos(root, FakeEstimator(), split_file=split, progress=False)
    out = tmp_path / "out.pkl"
    out.write_bytes(b"")
    assert run_convert("videos", root, "--out", out) == 2                          # refused before extracting
    assert run_convert("videos", root, "--out", tmp_path / "x.pkl", "--model-complexity", "2") == 2
    assert run_convert("videos", root, "--out", tmp_path / "x.pkl", "--split-file", split, "--seed", "1") == 2
    assert not (tmp_path / "x.pkl").exists()


def test_real_videos_convert_and_open_as_a_dataset(pushfit_dataset, capsys):
    dataset = open_dataset(DataConfig(path=str(pushfit_dataset)), verbose=False)    # the train/evaluate path
    assert dataset.class_names == ["correct", "wrong"] and dataset.layout.name == "coco17"
    assert sorted(len(v) for v in dataset.split.values()) == [2, 2]
    clip = dataset.clip("correct/correct10")
    assert clip["keypoint"].shape == (1, 45, 17, 2) and tuple(clip["img_shape"]) == (360, 640)
    assert clip["fps"] == 25.0 and clip["source"].endswith("correct10.mp4")
    assert (clip["keypoint_score"] > 0.5).mean() > 0.5
