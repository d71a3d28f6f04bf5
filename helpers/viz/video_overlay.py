"""Skeletons drawn over video frames: bones coloured by body side, joints shaded by score, a caption.

Colours are the plotting module's (`SIDE_COLOURS`, `SCORE_CMAP`); bones and sides
come from the layout.  Frames are (H, W, 3) uint8 RGB, keypoints (T, V, 2) pixels,
scores (T, V).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgb

from helpers.data.layouts import Layout
from helpers.video.reader import read_frames
from helpers.viz.plotting import SCORE_CMAP, SIDE_COLOURS, bone_sides
from helpers.viz.skeleton_player import animation_frames


def _rgb255(colour) -> tuple[int, int, int]:
    return tuple(int(round(255 * c)) for c in to_rgb(colour))


def draw_pose(frame: np.ndarray, joints: np.ndarray, scores: np.ndarray, layout: Layout,
              min_score: float = 0.2) -> np.ndarray:
    """A copy of `frame` with one person drawn: joints (V, 2), scores (V,).

    Joints scored below `min_score` (and their bones) are left out, as the models
    treat them as missing.
    """
    # imported here, not at module top, to keep start-up light for the keypoint-only commands
    import cv2

    image = np.ascontiguousarray(frame).copy()
    size = min(image.shape[:2])
    thickness, radius = max(2, round(size / 240)), max(3, round(size / 150))
    visible = scores >= max(min_score, 1e-6)
    points = np.round(joints).astype(int)
    for (child, parent), side in zip(layout.edges, bone_sides(layout)):
        if visible[child] and visible[parent]:
            cv2.line(image, tuple(points[child]), tuple(points[parent]), _rgb255(SIDE_COLOURS[side]), thickness,
                     cv2.LINE_AA)
    shade = colormaps[SCORE_CMAP]
    for joint in np.flatnonzero(visible):
        colour = tuple(int(round(255 * c)) for c in shade(float(scores[joint]))[:3])
        cv2.circle(image, tuple(points[joint]), radius, colour, -1, cv2.LINE_AA)
        cv2.circle(image, tuple(points[joint]), radius, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def draw_caption(frame: np.ndarray, text: str) -> np.ndarray:
    """`frame` (changed in place) with `text` in white on a dark box at the top left."""
    import cv2   # here, not at module top: start-up stays light for the keypoint-only commands

    height = frame.shape[0]
    scale = max(0.5, height / 480)
    thickness = max(1, round(2 * scale))
    (width, text_height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    margin = round(8 * scale)
    cv2.rectangle(frame, (0, 0), (width + 2 * margin, text_height + baseline + 2 * margin), (20, 20, 20), -1)
    cv2.putText(frame, text, (margin, margin + text_height), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                thickness, cv2.LINE_AA)
    return frame


def annotated_frames(frames: Iterable[np.ndarray], keypoint: np.ndarray, score: np.ndarray, layout: Layout,
                     captions: Sequence[str | None] | None = None, min_score: float = 0.2,
                     indices: Sequence[int] | None = None) -> Iterator[np.ndarray]:
    """Frame t with the skeleton of keypoint[t] and captions[t] drawn (frames past the keypoints: unchanged).

    With `indices`, the frames given are those frame numbers (a subset of the video).
    """
    for position, frame in enumerate(frames):
        t = position if indices is None else int(indices[position])
        if t < len(keypoint):
            frame = draw_pose(frame, keypoint[t], score[t], layout, min_score)
        if captions is not None and t < len(captions) and captions[t]:
            frame = draw_caption(frame, captions[t])
        yield frame


def resized(frame: np.ndarray, width: int) -> np.ndarray:
    """`frame` scaled to `width` pixels wide (aspect kept)."""
    import cv2   # here, not at module top: start-up stays light for the keypoint-only commands

    height = round(frame.shape[0] * width / frame.shape[1])
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def preview_frames(video: str | Path, keypoint: np.ndarray, score: np.ndarray, layout: Layout,
                   max_frames: int = 48, width: int = 360, captions: Sequence[str | None] | None = None,
                   min_score: float = 0.2) -> list[np.ndarray]:
    """At most `max_frames` evenly spaced frames of `video` with the skeleton drawn, `width` pixels wide."""
    indices = animation_frames(len(keypoint), max_frames)
    frames = read_frames(video, indices)
    factor = width / frames[0].shape[1] if frames else 1.0
    # scaled before drawing, so that lines and joints keep their thickness at the small size
    small = [resized(frame, width) for frame in frames]
    return list(annotated_frames(small, keypoint * factor, score, layout, captions, min_score, indices[:len(small)]))
