"""Extraction of whole videos through the estimator interface, and the keypoint cache (no MediaPipe here)."""
import shutil

import numpy as np
import pytest

from helpers.errors import UserInputError
from helpers.pose import cache
from helpers.pose.extract import extract_video, read_video_pose
from tests.conftest import FakeEstimator, write_test_video


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """A keypoint cache of each test's own: the test videos of other tests have the same bytes."""
    monkeypatch.setenv("SKELETON_ACTIONS_CACHE", str(tmp_path / "cache"))


def test_keypoints_scores_and_missing_frames(tmp_path):
    path = write_test_video(tmp_path / "v.mp4", frames=6, size=(48, 64), brightness=10)   # too dark: nobody
    pose = extract_video(path, FakeEstimator(), use_cache=False)
    assert pose.keypoint.shape == (6, 17, 2) and pose.score.shape == (6, 17) and pose.person_frames == 0
    assert not pose.score.any() and not pose.keypoint.any()          # missing: score 0, never a pose
    lit = extract_video(write_test_video(tmp_path / "w.mp4", frames=6), FakeEstimator(), use_cache=False)
    assert lit.person_frames == 6 and lit.img_shape == (48, 64) and lit.fps == 25.0 and lit.layout == "coco17"
    clip = lit.clip("walk/w", label=1)
    assert clip["keypoint"].shape == (1, 6, 17, 2) and clip["keypoint_score"].shape == (1, 6, 17)
    assert (clip["img_shape"], clip["fps"], clip["source"]) == ((48, 64), 25.0, str(tmp_path / "w.mp4"))


def test_second_extraction_comes_from_the_cache_keyed_by_content_and_settings(tmp_path):
    path = write_test_video(tmp_path / "a.mp4", frames=8)
    first = extract_video(path, FakeEstimator())
    calls = FakeEstimator.calls
    again = extract_video(path, FakeEstimator())
    assert FakeEstimator.calls == calls and again.from_cache and not first.from_cache
    np.testing.assert_array_equal(again.keypoint, first.keypoint)
    np.testing.assert_array_equal(again.score, first.score)
    assert (again.fps, again.img_shape) == (first.fps, first.img_shape)
    copy = shutil.copy(path, tmp_path / "renamed.mp4")                 # same bytes elsewhere: found again
    assert extract_video(copy, FakeEstimator()).from_cache and FakeEstimator.calls == calls
    other = extract_video(path, FakeEstimator(offset=5.0))             # other settings: estimated afresh
    assert not other.from_cache and FakeEstimator.calls == calls + 8
    np.testing.assert_allclose(other.keypoint, first.keypoint + 5.0)


def test_a_damaged_entry_is_estimated_again_and_rewritten(tmp_path):
    path = write_test_video(tmp_path / "a.mp4", frames=5)
    extract_video(path, FakeEstimator())
    entry = cache.entry_for(path, FakeEstimator())
    entry.write_bytes(entry.read_bytes()[:100])                          # truncated
    calls = FakeEstimator.calls
    pose = extract_video(path, FakeEstimator())
    assert not pose.from_cache and FakeEstimator.calls == calls + 5
    assert cache.load(entry, str(path)) is not None


def test_streams_are_not_cached_and_stop_at_max_seconds(tmp_path):
    path = write_test_video(tmp_path / "a.mp4", frames=20, fps=10)
    pose = read_video_pose(path, FakeEstimator(), as_stream=True, max_seconds=1.0, progress=False,
                           capture_to=tmp_path / "capture.mp4")
    assert pose.frames == 10 and not cache.entry_for(path, FakeEstimator()).exists()
    from helpers.video.reader import read_frames

    assert len(read_frames(tmp_path / "capture.mp4")) == 10            # the stream's frames, kept for rendering
    whole = read_video_pose(path, FakeEstimator(), progress=False)
    np.testing.assert_array_equal(whole.keypoint[:10], pose.keypoint)  # one frame-by-frame path for both


def test_unreadable_videos_raise_naming_the_file(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 64)
    with pytest.raises(UserInputError, match="broken.mp4: cannot be read as a video"):
        extract_video(broken, FakeEstimator())
    with pytest.raises(UserInputError, match="gone.mp4: video file not found"):
        extract_video(tmp_path / "gone.mp4", FakeEstimator())
