"""Reading videos: a file and the same file read as a stream (the camera path) give the same frames."""
import numpy as np
import pytest

from helpers.errors import UserInputError
from helpers.video.reader import open_video, parse_source, read_frames, video_info
from tests.conftest import write_test_video


def test_file_and_stream_give_the_same_rgb_frames(tmp_path):
    path = write_test_video(tmp_path / "grey.mp4", frames=7, size=(48, 64), fps=20)
    info = video_info(path)
    assert (info.frames, info.fps, info.width, info.height, info.img_shape) == (7, 20.0, 64, 48, (48, 64))
    assert not info.is_stream and "7 frames (0.3 s), 20.00 fps, 64x48" in info.describe()
    frames = read_frames(path)
    with open_video(path, as_stream=True) as stream:
        assert stream.info.frames is None and stream.info.is_stream and "a stream" in stream.info.describe()
        streamed = list(stream)
        assert stream.frames_read == 7
    assert len(frames) == 7 and all(np.array_equal(a, b) for a, b in zip(frames, streamed))
    assert frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    levels = [float(f.mean()) for f in frames]        # grey levels 40, 50, ...: blurred by the codec, in order
    assert levels[0] == pytest.approx(40, abs=3) and all(a < b for a, b in zip(levels, levels[1:]))
    picked = read_frames(path, [0, 5])
    assert len(picked) == 2 and np.array_equal(picked[1], frames[5])


def test_rgb_not_bgr(tmp_path):
    import cv2

    path = tmp_path / "red.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (32, 32))
    for _ in range(3):
        writer.write(np.dstack([np.zeros((32, 32)), np.zeros((32, 32)), np.full((32, 32), 200)]).astype(np.uint8))
    writer.release()
    red, green, blue = read_frames(path)[1].reshape(-1, 3).mean(axis=0)
    assert red > 150 and green < 40 and blue < 40


def test_bad_sources_name_the_file_and_the_reason(tmp_path):
    with pytest.raises(UserInputError, match="missing.mp4: video file not found"):
        open_video(tmp_path / "missing.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(UserInputError, match="broken.mp4: cannot be read as a video"):
        open_video(broken)


def test_camera_indices_and_file_names():
    assert parse_source("0") == 0 and parse_source(3) == 3
    assert parse_source("clip.mp4") == "clip.mp4"
