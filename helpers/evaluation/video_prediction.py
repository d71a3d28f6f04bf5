"""A checkpoint applied to a video's keypoints: the whole clip, a timeline, and the rendered video.

    prediction = predict_pose(checkpoint, pose)            # pose: helpers.pose.base.VideoPose
    prediction.top(3)                                      # [(class name, probability), ...]
    prediction.windows                                     # helpers.evaluation.timeline.Window rows
    render_prediction(prediction, "clip.mp4", "out.mp4")   # skeleton + current label on every frame

The whole clip is scored exactly as `evaluate` scores a clip (the checkpoint's
preprocessing and test views).  The timeline scores sliding windows of
`window` frames (default: the checkpoint's `preprocess.length`, one model input
at the video's own frame rate) every `stride` frames (default: half a window).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.data.layouts import get_layout
from helpers.evaluation.scoring import clip_probabilities
from helpers.evaluation.timeline import Window, frame_windows, timeline
from helpers.pose.base import VideoPose
from helpers.training.checkpoint import LoadedCheckpoint
from helpers.video.reader import open_video
from helpers.video.writer import VideoWriter


@dataclass
class VideoPrediction:
    pose: VideoPose
    class_names: list[str]
    probabilities: np.ndarray       # (K,) for the whole clip
    windows: list[Window]           # the timeline; one window when the clip is not longer than `window`
    window: int
    stride: int

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.probabilities)[:k]
        return [(self.class_names[i], float(self.probabilities[i])) for i in order]

    @property
    def has_timeline(self) -> bool:
        """Whether the video is longer than one window (else the timeline is the whole clip)."""
        return self.pose.frames > self.window

    def captions(self) -> list[str]:
        """Per frame, 'label probability' of the window shown for it (the nearest window centre)."""
        shown = frame_windows(self.windows, self.pose.frames)
        return [f"{self.windows[i].label} {self.windows[i].probability:.2f}" for i in shown]


def default_window(checkpoint: LoadedCheckpoint) -> int:
    return int(checkpoint.preprocess.length)


def predict_pose(checkpoint: LoadedCheckpoint, pose: VideoPose, window: int | None = None,
                 stride: int | None = None, device: str = "auto") -> VideoPrediction:
    """Whole-clip probabilities and the sliding-window timeline of one video's keypoints."""
    checkpoint.check_fits(pose.source, pose.keypoint.shape[1], pose.layout)
    window = default_window(checkpoint) if window is None else int(window)
    stride = max(1, window // 2) if stride is None else int(stride)
    clip = pose.clip(Path(str(pose.source)).stem)
    probabilities = clip_probabilities(checkpoint, [clip], device)[0]
    windows = timeline(checkpoint, pose.keypoint, pose.score, pose.fps, window, stride, device)
    return VideoPrediction(pose, list(checkpoint.class_names), probabilities, windows, window, stride)


def render_prediction(prediction: VideoPrediction, frames_from: str | Path, out: str | Path,
                      min_score: float = 0.2) -> int:
    """Write `out` (.mp4 or .gif): each frame of the video file `frames_from` with its skeleton and the
    current label drawn; returns the number of frames given to the writer."""
    # here, not at module top: drawing needs matplotlib's colours, which predicting without --render does not
    from helpers.viz.video_overlay import annotated_frames

    pose = prediction.pose
    with open_video(frames_from) as video, VideoWriter(out, pose.fps) as writer:
        for frame in annotated_frames(video, pose.keypoint, pose.score, _layout(pose), prediction.captions(),
                                      min_score):
            writer.write(frame)
    return writer.count


def _layout(pose: VideoPose):
    return get_layout(pose.layout)
