"""Reading videos frame by frame: a file or a camera, through one code path.

    with open_video("clip.mp4") as video:      # or open_video(0) for the first camera
        print(video.info)                      # fps, size, frame count (None for a stream)
        for frame in video:                    # (H, W, 3) uint8 RGB
            ...

A camera is a *stream*: its length is unknown and it cannot be read twice.
`open_video(path, as_stream=True)` reads a file the same way, so the camera path
can be tested without a camera.  Frames are RGB (OpenCV decodes BGR).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.errors import UserInputError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
STREAM_FPS = 30.0   # assumed when a camera does not report its frame rate
# FFmpeg's own complaints about a bad file (read when OpenCV first uses FFmpeg): the errors raised
# here name the file and the reason instead
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@dataclass(frozen=True)
class VideoInfo:
    source: str                 # the file, or 'camera N'
    fps: float
    width: int
    height: int
    frames: int | None          # from the file's header; None for a stream (camera)

    @property
    def is_stream(self) -> bool:
        return self.frames is None

    @property
    def img_shape(self) -> tuple[int, int]:
        """(height, width), the order of the dataset's `img_shape`."""
        return self.height, self.width

    def describe(self) -> str:
        length = "a stream" if self.frames is None else f"{self.frames} frames ({self.frames / self.fps:.1f} s)"
        return f"{self.source}: {length}, {self.fps:.2f} fps, {self.width}x{self.height}"


def parse_source(text: str | int | Path) -> str | int:
    """A camera index for '0', '1', ... (unless a file of that name exists), else the path as a string."""
    if isinstance(text, int):
        return text
    text = str(text)
    return int(text) if text.isdigit() and not Path(text).exists() else text


class VideoReader:
    """Frames of one video file or camera (see the module docstring); use as a context manager."""

    def __init__(self, source: str | int | Path, as_stream: bool = False):
        # imported here, not at module top, to keep start-up light for the keypoint-only commands
        import cv2

        self._cv2 = cv2
        self.source = parse_source(source)
        camera = isinstance(self.source, int)
        if not camera and not Path(self.source).is_file():
            raise UserInputError(f"{self.source}: video file not found")
        self._capture = cv2.VideoCapture(self.source)
        name = f"camera {self.source}" if camera else str(self.source)
        if not self._capture.isOpened():
            self._capture.release()
            what = "no camera with this index could be opened" if camera else \
                "cannot be read as a video (OpenCV found no decodable video stream)"
            raise UserInputError(f"{name}: {what}")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        stream = camera or as_stream
        self.info = VideoInfo(
            source=name, fps=fps if fps > 0 else STREAM_FPS,
            width=int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            frames=None if stream else max(count, 0))
        self.frames_read = 0

    def __iter__(self):
        """RGB frames (H, W, 3) uint8 until the video ends (or the camera stops)."""
        while True:
            ok, frame = self._capture.read()
            if not ok:
                break
            self.frames_read += 1
            yield self._cv2.cvtColor(frame, self._cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_video(source: str | int | Path, as_stream: bool = False) -> VideoReader:
    """A VideoReader for a file path or a camera index; errors name the source and the reason."""
    return VideoReader(source, as_stream)


def video_info(path: str | Path) -> VideoInfo:
    """fps, size and frame count from a file's header, without decoding it."""
    with open_video(path) as video:
        return video.info


def read_frames(path: str | Path, indices=None) -> list[np.ndarray]:
    """RGB frames of a file: all of them, or those at `indices` (sorted frame numbers)."""
    wanted = None if indices is None else set(int(i) for i in indices)
    with open_video(path) as video:
        return [frame for t, frame in enumerate(video) if wanted is None or t in wanted]
