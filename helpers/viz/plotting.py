"""Figures: training curves, confusion matrices and skeleton drawings (bones read from the layout)."""
from __future__ import annotations

import io
import os

import matplotlib

if "MPLBACKEND" not in os.environ and not os.environ.get("JPY_PARENT_PID"):
    matplotlib.use("Agg")  # headless by default; notebooks keep their inline backend

import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap
import numpy as np
import seaborn as sns

from helpers.io import atomic_write
from helpers.data.layouts import Layout


def save_figure(figure, path, dpi: int = 120) -> None:
    """Save a figure as PNG atomically and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    atomic_write(path, lambda file: file.write(buffer.getvalue()))


def plot_history(history: list[dict], title: str = ""):
    """Loss, accuracy and macro-F1 per epoch, train and validation (a fitted classical model: one point)."""
    epochs = [row["epoch"] for row in history]
    marker = "o" if len(history) < 3 else None   # a single epoch still shows
    figure, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for axis, (key, label) in zip(axes, [("loss", "loss"), ("acc", "accuracy"), ("f1", "macro-F1")]):
        axis.plot(epochs, [row[f"train_{key}"] for row in history], label="train", marker=marker)
        axis.plot(epochs, [row[f"val_{key}"] for row in history], label="val", marker=marker)
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


# ---- figures of the notebook series (added; the functions above are unchanged) ----

def clip_limits(keypoint: np.ndarray, scores: np.ndarray | None = None, min_score: float = 0.0,
                pad_share: float = 0.1) -> tuple[tuple[float, float], tuple[float, float]]:
    """(x_min, x_max), (y_max, y_min) framing every visible joint of a clip, for a y-down image axis.

    keypoint: (..., V, 2), scores: (..., V) or None.
    """
    visible = keypoint.reshape(-1, 2) if scores is None else keypoint[scores >= max(min_score, 1e-6)]
    if len(visible) == 0:
        visible = np.zeros((1, 2))
    low, high = visible.min(axis=0), visible.max(axis=0)
    pad = pad_share * max(float((high - low).max()), 1e-3)
    return (low[0] - pad, high[0] + pad), (high[1] + pad, low[1] - pad)


def plot_clip_statistics(statistics):
    """Histograms of clip length (frames) and of persons per clip (a DataFrame from data_summary.clip_statistics)."""
    figure, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    axes[0].hist(statistics["frames"], bins=30, color="tab:blue", edgecolor="white")
    axes[0].set_xlabel("frames per clip (T)")
    axes[0].set_ylabel("clips")
    axes[0].set_title(f"clip length: median {statistics['frames'].median():.0f} frames")
    persons = statistics["max_persons_in_a_frame"]
    values = np.arange(persons.min(), persons.max() + 1)
    axes[1].bar(values, [int((persons == v).sum()) for v in values], color="tab:orange")
    axes[1].set_xticks(values)
    axes[1].set_xlabel("persons seen together in the busiest frame")
    axes[1].set_ylabel("clips")
    axes[1].set_title("persons per clip")
    for axis in axes:
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def plot_raw_vs_normalized(raw: np.ndarray, raw_scores: np.ndarray, normalized: np.ndarray, layout: Layout,
                           frame: int, min_score: float = 0.0):
    """One frame before and after normalisation, side by side.

    raw: (T, V, 2) pixels, raw_scores: (T, V), normalized: (T, V, 2) in torso lengths
    around the centre (missing joints are 0 there, so they are hidden by the raw scores).
    """
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for axis, joints, title, unit in ((axes[0], raw, "raw keypoints", "pixels"),
                                      (axes[1], normalized, "normalised", "torso lengths")):
        draw_skeleton(axis, joints[frame], layout, raw_scores[frame], min_score)
        (x0, x1), (y0, y1) = clip_limits(joints, raw_scores, min_score)
        axis.set_xlim(x0, x1)
        axis.set_ylim(y0, y1)
        axis.set_title(f"{title} (frame {frame})")
        axis.set_xlabel(f"x ({unit})")
        axis.set_ylabel(f"y ({unit}, down)")
        axis.grid(alpha=0.3)
    axes[1].axhline(0, color="grey", linewidth=0.8)
    axes[1].axvline(0, color="grey", linewidth=0.8)
    figure.tight_layout()
    return figure


def plot_persons(keypoint: np.ndarray, scores: np.ndarray, layout: Layout, frame: int, title: str = "",
                 min_score: float = 0.0, image_shape: tuple[int, int] | None = None):
    """Every person slot of one frame in its own colour.  keypoint: (M, T, V, 2), scores: (M, T, V)."""
    figure, axis = plt.subplots(figsize=(6, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for person in range(keypoint.shape[0]):
        if scores[person, frame].max() <= 0:
            continue  # slot empty in this frame
        colour = colours[person % len(colours)]
        # a one-colour map: joints take the person's colour, undetected joints stay hidden
        draw_skeleton(axis, keypoint[person, frame], layout, scores[person, frame].astype(np.float32), min_score,
                      color=colour, cmap=ListedColormap([colour]))
        axis.plot([], [], color=colour, marker="o",
                  label=f"slot {person} (mean score {scores[person, frame].astype(float).mean():.2f})")
    (x0, x1), (y0, y1) = clip_limits(keypoint[:, frame], scores[:, frame], min_score)
    if image_shape is not None:  # the whole image, widened to joints detected outside it
        height, width = image_shape
        x0, x1, y0, y1 = min(x0, 0), max(x1, width), max(y0, height), min(y1, 0)
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.legend(loc="upper right", fontsize=8)
    axis.set_title(title or f"frame {frame}")
    figure.tight_layout()
    return figure


def plot_joint_scores(joints: np.ndarray, scores: np.ndarray, layout: Layout, title: str = ""):
    """One frame with joints coloured by detection score (colour bar), bones from the layout.

    joints: (V, 2), scores: (V,); joints with score 0 (not detected) are left out.
    """
    figure, axis = plt.subplots(figsize=(5.5, 4.5))
    points = draw_skeleton(axis, joints, layout, scores.astype(np.float32), color="lightgrey", cmap="RdYlGn")
    points.set_sizes([60])
    (x0, x1), (y0, y1) = clip_limits(joints, scores, pad_share=0.2)
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    figure.colorbar(points, ax=axis, label="keypoint score")
    for index in np.flatnonzero(scores < 0.3):
        if scores[index] > 0:
            axis.annotate(layout.joint_names[index], joints[index], fontsize=7, xytext=(4, 4),
                          textcoords="offset points")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def plot_histories(histories: dict[str, list[dict]], keys=("val_loss", "val_f1")):
    """Validation curves of several runs on shared axes, one panel per key."""
    figure, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 3.6))
    for axis, key in zip(np.atleast_1d(axes), keys):
        for name, history in histories.items():
            axis.plot([row["epoch"] for row in history], [row[key] for row in history], label=name,
                      marker="o" if len(history) < 3 else None)  # a single epoch still shows
        axis.set_xlabel("epoch")
        axis.set_title(key.replace("_", " ").replace("f1", "macro-F1").replace("acc", "accuracy"))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return figure
