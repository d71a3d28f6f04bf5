"""MediaPipe Pose (BlazePose, 33 landmarks) as a PoseEstimator giving COCO-17 keypoints.

`mediapipe==0.10.14` (see requirements-nodeps.txt): its `solutions.pose` API
carries the detector and the 'full' landmark model inside the wheel
(`modules/pose_detection/pose_detection.tflite`,
`modules/pose_landmark/pose_landmark_full.tflite`), so `model_complexity=1`
runs offline.  0 (lite) and 2 (heavy) download their model at run time and are
refused: the project never downloads anything.

Landmarks are normalised to the frame (x * width, y * height are pixels);
`visibility` serves as the score.  The 17 COCO joints are BlazePose landmarks
`BLAZEPOSE_TO_COCO17`.  A new `Pose` object is made for every video: reused, its
tracking state moves the first frames of the next video by up to ~200 px.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import warnings
from importlib.metadata import version
from typing import Iterable, Iterator

import numpy as np

from helpers.data.layouts import COCO17
from helpers.errors import UserInputError
from helpers.pose.base import PoseEstimator

# COCO-17 joint j is BlazePose landmark BLAZEPOSE_TO_COCO17[j]
# (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles)
BLAZEPOSE_TO_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
SHIPPED_MODEL_COMPLEXITY = 1   # the only landmark model inside the wheel

# protobuf's deprecation notice, raised inside mediapipe on every frame
warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype", category=UserWarning)


class BlazePose(PoseEstimator):
    """MediaPipe Pose, one person per frame, video mode (tracking between frames)."""

    layout = COCO17

    def __init__(self, model_complexity: int = SHIPPED_MODEL_COMPLEXITY, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5):
        if model_complexity != SHIPPED_MODEL_COMPLEXITY:
            raise UserInputError(
                f"model complexity {model_complexity}: only {SHIPPED_MODEL_COMPLEXITY} (the 'full' model inside "
                "the mediapipe wheel) runs offline; 0 (lite) and 2 (heavy) would download a model at run time, "
                "which this project never does")
        for name, value in (("min detection confidence", min_detection_confidence),
                            ("min tracking confidence", min_tracking_confidence)):
            if not 0.0 <= value <= 1.0:
                raise UserInputError(f"{name} must be between 0 and 1, got {value}")
        self.model_complexity = model_complexity
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_tracking_confidence = float(min_tracking_confidence)

    @staticmethod
    def add_arguments(parser) -> None:
        """The estimator's command-line options (convert videos, predict --video)."""
        group = parser.add_argument_group("pose estimation (MediaPipe BlazePose)")
        group.add_argument("--model-complexity", type=int, default=SHIPPED_MODEL_COMPLEXITY,
                           help="landmark model; only 1 ('full', inside the wheel) runs offline")
        group.add_argument("--min-detection-confidence", type=float, default=0.5,
                           help="person detector threshold (default 0.5)")
        group.add_argument("--min-tracking-confidence", type=float, default=0.5,
                           help="below this the person is detected afresh instead of tracked (default 0.5)")

    @classmethod
    def from_arguments(cls, args) -> "BlazePose":
        return cls(args.model_complexity, args.min_detection_confidence, args.min_tracking_confidence)

    def settings(self) -> dict:
        return {"estimator": "blazepose", "mediapipe": version("mediapipe"),
                "model_complexity": self.model_complexity,
                "min_detection_confidence": self.min_detection_confidence,
                "min_tracking_confidence": self.min_tracking_confidence}

    def track(self, frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # imported here, not at module top, to keep start-up light for the keypoint-only commands
        from mediapipe.python.solutions import pose as mp_pose

        frames = iter(frames)
        # MediaPipe's C++ side writes start-up notes (TFLite delegate, absl) straight to stderr, from its
        # own threads while the graph opens: silent until the first frame has come back, when it is open
        with _native_logs_silenced():
            pose = mp_pose.Pose(static_image_mode=False, model_complexity=self.model_complexity,
                                smooth_landmarks=True, enable_segmentation=False,
                                min_detection_confidence=self.min_detection_confidence,
                                min_tracking_confidence=self.min_tracking_confidence)
            try:
                frame = next(frames, None)
                result = None if frame is None else pose.process(_checked(frame))
            except BaseException:
                pose.close()
                raise
        try:
            while frame is not None:
                yield self._coco17(result.pose_landmarks, frame.shape[1], frame.shape[0])
                frame = next(frames, None)
                if frame is not None:
                    result = pose.process(_checked(frame))
        finally:
            with _native_logs_silenced():
                pose.close()

    def _coco17(self, landmarks, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """joints (17, 2) pixels and scores (17,) (visibility) of one frame; all zero without a detection."""
        if landmarks is None:
            return np.zeros((self.layout.num_joints, 2), np.float32), np.zeros(self.layout.num_joints, np.float32)
        points = landmarks.landmark
        values = np.array([(points[i].x * width, points[i].y * height, points[i].visibility)
                           for i in BLAZEPOSE_TO_COCO17], dtype=np.float32)
        return values[:, :2], np.clip(values[:, 2], 0.0, 1.0)


def _checked(frame: np.ndarray) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an RGB frame (H, W, 3) uint8, got {getattr(frame, 'shape', type(frame))}")
    return frame


@contextlib.contextmanager
def _native_logs_silenced():
    """Send file descriptor 2 to /dev/null while MediaPipe's C++ side starts (it logs there directly)."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr descriptor (some embedded interpreters): nothing to silence
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        _flush_c_streams()   # what the C side buffered meanwhile goes to /dev/null too, not out at exit
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _flush_c_streams() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass
