"""Figures: training curves, confusion matrices and skeleton drawings (bones read from the layout)."""
from __future__ import annotations

import io
import os

import matplotlib

if "MPLBACKEND" not in os.environ and not os.environ.get("JPY_PARENT_PID"):
    matplotlib.use("Agg")  # headless by default; notebooks keep their inline backend

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from helpers.io_utils import atomic_write
from helpers.layouts import Layout


def save_figure(figure, path, dpi: int = 120) -> None:
    """Save a figure as PNG atomically and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    atomic_write(path, lambda file: file.write(buffer.getvalue()))


def plot_history(history: list[dict], title: str = ""):
    """Loss, accuracy and macro-F1 per epoch, train and validation."""
    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for axis, (key, label) in zip(axes, [("loss", "loss"), ("acc", "accuracy"), ("f1", "macro-F1")]):
        axis.plot(epochs, [row[f"train_{key}"] for row in history], label="train")
        axis.plot(epochs, [row[f"val_{key}"] for row in history], label="val")
        axis.set_xlabel("epoch")
        axis.set_title(label)
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_confusion_matrix(matrix: np.ndarray, class_names: list[str], title: str = "", normalize: bool = True,
                          axis=None):
    """Confusion matrix heat map with class names (rows: true, columns: predicted)."""
    matrix = np.asarray(matrix, dtype=float)
    shown = matrix / np.maximum(1, matrix.sum(axis=1, keepdims=True)) if normalize else matrix
    size = max(4.0, 0.45 * len(class_names) + 2)
    figure = None
    if axis is None:
        figure, axis = plt.subplots(figsize=(size + 1, size))
    many = len(class_names) > 25
    sns.heatmap(shown, ax=axis, cmap="Blues", vmin=0, vmax=1 if normalize else None, square=True,
                annot=not many, fmt=".2f", annot_kws={"size": 7},
                xticklabels=class_names if not many else False, yticklabels=class_names if not many else False,
                cbar=not many)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    if title:
        axis.set_title(title)
    return figure if figure is not None else axis.figure


def draw_skeleton(axis, joints: np.ndarray, layout: Layout, scores: np.ndarray | None = None,
                  min_score: float = 0.0, color: str = "tab:blue", invert_y: bool = True, cmap: str = "viridis"):
    """Draw one frame of one person: joints (V, 2), bones from `layout.edges`.

    Joints scored below `min_score` (and their bones) are skipped; with `scores`,
    joints are coloured by score.
    """
    visible = np.ones(layout.num_joints, bool) if scores is None else scores >= max(min_score, 1e-6)
    for child, parent in layout.edges:
        if visible[child] and visible[parent]:
            axis.plot(*joints[[child, parent]].T, color=color, linewidth=2, alpha=0.8)
    colours = scores[visible] if scores is not None else color
    points = axis.scatter(*joints[visible].T, c=colours, cmap=cmap if scores is not None else None,
                          vmin=0, vmax=1, s=18, zorder=3)
    axis.set_aspect("equal")
    if invert_y and not axis.yaxis_inverted():
        axis.invert_yaxis()
    return points


def plot_clip_frames(keypoint: np.ndarray, layout: Layout, scores: np.ndarray | None = None, frames=None,
                     title: str = "", min_score: float = 0.0):
    """The report's figure: one person drawn at start, middle and end frames.

    keypoint: (T, V, 2), scores: (T, V) or None.
    """
    total = keypoint.shape[0]
    frames = frames if frames is not None else [0, total // 2, total - 1]
    figure, axes = plt.subplots(1, len(frames), figsize=(4 * len(frames), 4))
    visible = keypoint if scores is None else keypoint[scores >= max(min_score, 1e-6)]
    low, high = visible.min(axis=0), visible.max(axis=0)
    pad = 0.1 * (high - low).max()
    for axis, frame in zip(np.atleast_1d(axes), frames):
        draw_skeleton(axis, keypoint[frame], layout, None if scores is None else scores[frame], min_score)
        axis.set_xlim(low[0] - pad, high[0] + pad)
        axis.set_ylim(high[1] + pad, low[1] - pad)
        axis.set_title(f"frame {frame}")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
