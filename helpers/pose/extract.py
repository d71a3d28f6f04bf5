"""Whole videos to keypoints: frames read one by one (file or camera) through a PoseEstimator.

`extract_video` returns a `helpers.pose.base.VideoPose`; for files it reads and
fills the keypoint cache (`helpers.pose.cache`), so a video is estimated once
per estimator setting.  `read_video_pose` adds what a command needs: a progress
bar, a time limit for cameras and a copy of a stream's frames for rendering it
afterwards (a stream cannot be read twice).
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from helpers.errors import UserInputError
from helpers.pose import cache
from helpers.pose.base import PoseEstimator, VideoPose
from helpers.video.reader import VideoReader, open_video, parse_source
from helpers.video.writer import VideoWriter

CAMERA_SECONDS = 10.0   # a camera is read this long unless told otherwise


def extract_video(source: str | int | Path, estimator: PoseEstimator, use_cache: bool = True,
                  as_stream: bool = False, on_frame: Callable[[int, np.ndarray], None] | None = None,
                  max_frames: int | None = None) -> VideoPose:
    """Keypoints of a video (`source`: a file path or a camera index).

    Files are looked up in the keypoint cache first (unless `use_cache` is off) and
    stored there after extraction; streams (cameras, or a file read with
    `as_stream`) and runs cut short by `max_frames` never are.  `on_frame(t, frame)`
    is called for every frame read (progress, capturing a stream).  Raises
    UserInputError (naming the source) for a video that cannot be read.
    """
    source = parse_source(source)
    entry = None
    if use_cache and max_frames is None and not as_stream and not isinstance(source, int):
        if not Path(source).is_file():
            raise UserInputError(f"{source}: video file not found")
        entry = cache.entry_for(source, estimator)
        cached = cache.load(entry, str(source))
        if cached is not None:
            return cached
    with open_video(source, as_stream=as_stream) as video:
        pose = _estimate(video, estimator, on_frame, max_frames)
    if entry is not None:
        cache.store(entry, pose)
    return pose


def _estimate(video: VideoReader, estimator: PoseEstimator, on_frame, max_frames: int | None) -> VideoPose:
    shape = []

    def frames():
        for t, frame in enumerate(video):
            if not shape:
                shape.append(frame.shape[:2])
            if on_frame is not None:
                on_frame(t, frame)
            yield frame
            if max_frames is not None and t + 1 >= max_frames:
                break

    keypoint, score = estimator.estimate(frames())
    if not len(keypoint):
        raise UserInputError(f"{video.info.source}: no frame could be decoded")
    return VideoPose(keypoint, score, estimator.layout.name, video.info.fps, tuple(int(s) for s in shape[0]),
                     video.info.source)


def read_video_pose(source: str | int | Path, estimator: PoseEstimator, use_cache: bool = True,
                    as_stream: bool = False, max_seconds: float | None = None,
                    capture_to: str | Path | None = None, progress: bool = True) -> VideoPose:
    """`extract_video` with a progress bar over frames, `max_seconds` (default for a camera:
    CAMERA_SECONDS) and, for a stream, a copy of the frames read written to `capture_to` (.mp4)."""
    source = parse_source(source)
    stream = as_stream or isinstance(source, int)
    if max_seconds is None and isinstance(source, int):
        max_seconds = CAMERA_SECONDS
    if max_seconds is not None and max_seconds <= 0:
        raise UserInputError(f"--max-seconds must be positive, got {max_seconds}")
    if not stream and max_seconds is None:
        with open_video(source) as video:
            total = video.info.frames
        with tqdm(total=total, desc="pose", unit="frame", leave=False, mininterval=0.5, disable=not progress) as bar:
            return extract_video(source, estimator, use_cache, on_frame=lambda t, frame: bar.update(1))
    with contextlib.ExitStack() as stack:
        video = stack.enter_context(open_video(source, as_stream=as_stream))
        max_frames = None if max_seconds is None else max(1, round(max_seconds * video.info.fps))
        capture = stack.enter_context(VideoWriter(capture_to, video.info.fps)) if capture_to and stream else None
        bar = stack.enter_context(tqdm(total=max_frames if stream else video.info.frames, desc="pose",
                                       unit="frame", leave=False, mininterval=0.5, disable=not progress))

        def on_frame(t: int, frame: np.ndarray) -> None:
            bar.update(1)
            if capture is not None:
                capture.write(frame)

        return _estimate(video, estimator, on_frame, max_frames)
