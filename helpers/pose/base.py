"""The pose estimator interface: RGB frames in, one person's keypoints and scores out, in a declared layout.

An estimator reads the frames of one video (any iterable: a decoded file or a
camera stream) and yields, per frame, joints (V, 2) in pixels and scores (V,)
in 0..1 for the joints of its `layout` (one person per frame, M = 1).  A frame
in which nobody is detected gets score 0 for every joint (coordinates 0): the
joints are missing, never zeros passed off as a pose.  Each `track` call is a
new video: no tracking state carries over from the previous one.

`VideoPose` holds what comes out for a whole video.  Everything else (extraction, the keypoint cache, the video importer, predict)
sees only this interface, so another estimator is one new subclass.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from helpers.data.layouts import Layout


class PoseEstimator(ABC):
    """Frames (H, W, 3) uint8 RGB -> per frame joints (V, 2) float32 pixels, scores (V,) float32."""

    layout: Layout

    @abstractmethod
    def settings(self) -> dict:
        """Everything that decides the output (name, library version, model, thresholds), as plain types.

        Two estimators with equal settings give equal keypoints: the keypoint cache is keyed by them.
        """

    @abstractmethod
    def track(self, frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(joints (V, 2), scores (V,)) for each frame of one video, from a fresh tracking state."""

    def estimate(self, frames: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """keypoint (T, V, 2) and score (T, V) of a whole video (T may be 0)."""
        joints, scores = [], []
        for frame_joints, frame_scores in self.track(frames):
            joints.append(frame_joints)
            scores.append(frame_scores)
        v = self.layout.num_joints
        if not joints:
            return np.zeros((0, v, 2), np.float32), np.zeros((0, v), np.float32)
        return np.stack(joints).astype(np.float32), np.stack(scores).astype(np.float32)

    def describe(self) -> str:
        return ", ".join(f"{key} {value}" for key, value in self.settings().items())


@dataclass
class VideoPose:
    """One person's keypoints over a video.

    keypoint (T, V, 2) float32 pixels, score (T, V) float32 (0 for every joint of a
    frame in which nobody was detected), in skeleton layout `layout`.
    """

    keypoint: np.ndarray
    score: np.ndarray
    layout: str
    fps: float
    img_shape: tuple[int, int]      # (height, width) of the frames
    source: str                     # the file, or 'camera N'
    from_cache: bool = False

    @property
    def frames(self) -> int:
        return int(self.keypoint.shape[0])

    @property
    def person_frames(self) -> int:
        """Frames in which a person was detected."""
        return int((self.score.max(axis=1) > 0).sum()) if self.frames else 0

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    def describe(self, name: str | None = None) -> str:
        """'<source or name>: T frames (s) at fps, WxH, a person in N of them (%)'."""
        height, width = self.img_shape
        share = self.person_frames / max(1, self.frames)
        return (f"{name or self.source}: {self.frames} frames ({self.duration:.1f} s) at {self.fps:.2f} fps, "
                f"{width}x{height}, a person in {self.person_frames} of them ({share:.0%})")

    def clip(self, frame_dir: str, label: int = 0, dtype: str = "float32") -> dict:
        """The video as one annotation of the dataset format (M = 1), with its size, fps and source."""
        return {"frame_dir": frame_dir, "label": int(label), "total_frames": self.frames,
                "img_shape": tuple(self.img_shape), "original_shape": tuple(self.img_shape),
                "fps": float(self.fps), "source": str(self.source),
                "keypoint": self.keypoint[None].astype(dtype), "keypoint_score": self.score[None].astype(dtype)}
