"""Figures: training curves, confusion matrices and skeleton drawings (bones and body sides read from the layout).

Colours are safe for colour-blind readers: bones by body side in the Okabe-Ito
blue / orange, keypoint scores on the viridis map (always with a colour bar),
models in seaborn's `colorblind` palette.
"""
from __future__ import annotations

import io
import os

import matplotlib

if "MPLBACKEND" not in os.environ and not os.environ.get("JPY_PARENT_PID"):
    matplotlib.use("Agg")  # headless by default; notebooks keep their inline backend

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D

from helpers.data.layouts import Layout
from helpers.io import atomic_write
from helpers.viz.run_summary import best_epoch

# Text in figures is drawn literally: class names and clip ids come from data files, and a '$' in one
# would otherwise start matplotlib math text (an unknown macro such as $\undefinedmacro$ fails the draw).
matplotlib.rcParams["text.parse_math"] = False

SIDE_COLOURS = {"left": "#0072b2", "right": "#e69f00", "centre": "#7f7f7f"}   # Okabe-Ito blue, orange; grey
SCORE_CMAP = "viridis"
MODEL_COLOURS = sns.color_palette("colorblind")
PIXEL_AXES = ("x (pixels)", "y (pixels, down)")


def figure_png(figure, dpi: int = 120) -> bytes:
    """The figure drawn as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def save_figure(figure, path, dpi: int = 120) -> None:
    """Save a figure as PNG atomically and close it."""
    png = figure_png(figure, dpi)
    atomic_write(path, lambda file: file.write(png))


def model_colour(index: int):
    return MODEL_COLOURS[index % len(MODEL_COLOURS)]


# ---- training curves ------------------------------------------------------------

def plot_history(history: list[dict], title: str = ""):
    """Loss, accuracy and macro-F1 per epoch, train and validation; a dotted line marks the best epoch
    (a fitted classical model: one point)."""
    epochs = [row["epoch"] for row in history]
    marker = "o" if len(history) < 3 else None   # a single epoch still shows
    best = best_epoch(history)
    figure, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for axis, (key, label) in zip(axes, [("loss", "loss"), ("acc", "accuracy"), ("f1", "macro-F1")]):
        axis.plot(epochs, [row[f"train_{key}"] for row in history], label="train", color=model_colour(0),
                  marker=marker)
        axis.plot(epochs, [row[f"val_{key}"] for row in history], label="validation", color=model_colour(1),
                  marker=marker)
        if best is not None:
            axis.axvline(best, color="black", linestyle=":", linewidth=1.2,
                         label=f"best epoch {best} (val macro-F1 {history[best - 1]['val_f1']:.3f})")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.set_title(label)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_histories(histories: dict[str, list[dict]], keys=("val_loss", "val_f1")):
    """Validation curves of several runs on shared axes, one panel per key; a star marks each run's best epoch."""
    figure, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 3.6))
    for axis, key in zip(np.atleast_1d(axes), keys):
        for index, (name, history) in enumerate(histories.items()):
            colour = model_colour(index)
            axis.plot([row["epoch"] for row in history], [row[key] for row in history], label=name, color=colour,
                      marker="o" if len(history) < 3 else None)  # a single epoch still shows
            best = best_epoch(history)
            if best is not None:
                axis.plot(best, history[best - 1][key], marker="*", markersize=13, color=colour,
                          markeredgecolor="black", linestyle="none")
        label = key.replace("val_", "validation ").replace("f1", "macro-F1").replace("acc", "accuracy")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.set_title(label)
        axis.grid(alpha=0.3)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    handles.append(Line2D([], [], marker="*", markersize=11, color="grey", markeredgecolor="black", linestyle="none"))
    labels.append("best epoch")
    np.atleast_1d(axes)[-1].legend(handles, labels, fontsize=8)
    figure.tight_layout()
    return figure


# ---- confusion matrices -----------------------------------------------------------

def plot_confusion_matrix(matrix: np.ndarray, class_names: list[str], title: str = "", normalize: bool = True,
                          axis=None, colour_bar: bool = True):
    """Confusion matrix heat map with class names (rows: true, columns: predicted), rows normalised to 1.

    Cells hold the share of the row's clips (two decimals; blank where no clip
    fell) when there are at most 25 classes; beyond that the names and numbers
    would not be readable.
    """
    matrix = np.asarray(matrix, dtype=float)
    shown = matrix / np.maximum(1, matrix.sum(axis=1, keepdims=True)) if normalize else matrix
    size = max(4.5, 0.5 * len(class_names) + 2)
    figure = None
    if axis is None:
        figure, axis = plt.subplots(figsize=(size + 1.2, size))
    many = len(class_names) > 25
    # empty cells stay blank, so the few mix-ups stand out
    labels = np.where(matrix > 0, np.vectorize(lambda v: f"{v:.2f}" if normalize else f"{v:.0f}")(shown), "")
    sns.heatmap(shown, ax=axis, cmap="Blues", vmin=0, vmax=1 if normalize else None, square=True,
                annot=labels if not many else False, fmt="", annot_kws={"size": 8},
                xticklabels=class_names if not many else False, yticklabels=class_names if not many else False,
                cbar=colour_bar, cbar_kws={"label": "share of the true class's clips" if normalize else "clips",
                                           "shrink": 0.8})
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    if not many:
        plt.setp(axis.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")
        plt.setp(axis.get_yticklabels(), rotation=0)
    if title:
        axis.set_title(title)
    return figure if figure is not None else axis.figure


# ---- skeletons ---------------------------------------------------------------------

def joint_sides(layout: Layout) -> np.ndarray:
    """'left', 'right' or 'centre' per joint, shape (V,), from the layout's left/right pairs."""
    return np.array(layout.joint_sides(), dtype=object)


def bone_sides(layout: Layout) -> list[str]:
    """The body side of every bone (layout.edges order): a bone is on a side when both ends are, else centre."""
    sides = joint_sides(layout)
    return [sides[child] if sides[child] == sides[parent] else "centre" for child, parent in layout.edges]


def side_legend(target, location: str = "best") -> None:
    """A legend naming the bone colours of the body sides, on an axis or (for several panels) a figure;
    a figure's legend goes below the panels."""
    handles = [Line2D([], [], color=SIDE_COLOURS[side], linewidth=2.5, label=f"{side} side")
               for side in ("left", "right")]
    if isinstance(target, plt.Figure):
        target.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    else:
        target.legend(handles=handles, loc=location, fontsize=7, framealpha=0.8)


def draw_skeleton(axis, joints: np.ndarray, layout: Layout, scores: np.ndarray | None = None,
                  min_score: float = 0.0, color: str | None = None, invert_y: bool = True,
                  score_colours: bool = True, marker_size: float = 22):
    """Draw one frame of one person: joints (V, 2), bones from `layout.edges`.

    Bones are coloured by body side (SIDE_COLOURS) unless `color` names one colour.
    Joints scored below `min_score` (and their bones) are skipped; with `scores` and
    `score_colours`, joints are coloured by score on SCORE_CMAP (0 to 1: add a
    colour bar with `score_colour_bar`), else like their bones.  Returns the joints'
    scatter.
    """
    visible = np.ones(layout.num_joints, bool) if scores is None else scores >= max(min_score, 1e-6)
    for (child, parent), side in zip(layout.edges, bone_sides(layout)):
        if visible[child] and visible[parent]:
            axis.plot(*joints[[child, parent]].T, color=color or SIDE_COLOURS[side], linewidth=2.2, alpha=0.9,
                      solid_capstyle="round")
    if scores is not None and score_colours:
        points = axis.scatter(*joints[visible].T, c=scores[visible], cmap=SCORE_CMAP, vmin=0, vmax=1,
                              s=marker_size, zorder=3, edgecolors="black", linewidths=0.4)
    else:
        colours = [color or SIDE_COLOURS[side] for side in joint_sides(layout)[visible]]
        points = axis.scatter(*joints[visible].T, c=colours, s=marker_size, zorder=3, edgecolors="black",
                              linewidths=0.4)
    axis.set_aspect("equal")
    if invert_y and not axis.yaxis_inverted():
        axis.invert_yaxis()
    return points


def score_colour_bar(figure, axes, label: str = "keypoint score"):
    """A colour bar for joints coloured by score (SCORE_CMAP, 0 to 1) beside `axes`."""
    mappable = plt.cm.ScalarMappable(norm=Normalize(0, 1), cmap=SCORE_CMAP)
    return figure.colorbar(mappable, ax=axes, label=label, shrink=0.85)


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


def plot_clip_frames(keypoint: np.ndarray, layout: Layout, scores: np.ndarray | None = None, frames=None,
                     title: str = "", min_score: float = 0.0):
    """One person drawn at start, middle and end frames (bones by side, joints by score).

    keypoint: (T, V, 2), scores: (T, V) or None.
    """
    total = keypoint.shape[0]
    frames = frames if frames is not None else [0, total // 2, total - 1]
    figure, axes = plt.subplots(1, len(frames), figsize=(4 * len(frames) + 1, 4.2), squeeze=False,
                                layout="constrained")
    axes = axes[0]
    (x0, x1), (y0, y1) = clip_limits(keypoint, scores, min_score)
    for axis, frame in zip(axes, frames):
        draw_skeleton(axis, keypoint[frame], layout, None if scores is None else scores[frame], min_score)
        axis.set_xlim(x0, x1)
        axis.set_ylim(y0, y1)
        axis.set_title(f"frame {frame}")
        axis.set_xlabel(PIXEL_AXES[0])
    axes[0].set_ylabel(PIXEL_AXES[1])
    side_legend(figure)
    if title:
        figure.suptitle(title)
    if scores is not None:
        score_colour_bar(figure, list(axes))
    return figure


def plot_clip_statistics(statistics):
    """Histograms of clip length (frames) and of persons per clip (a DataFrame from data_summary.clip_statistics)."""
    figure, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    axes[0].hist(statistics["frames"], bins=30, color=model_colour(0), edgecolor="white")
    axes[0].set_xlabel("frames per clip (T)")
    axes[0].set_ylabel("clips")
    axes[0].set_title(f"clip length: median {statistics['frames'].median():.0f} frames")
    persons = statistics["max_persons_in_a_frame"]
    values = np.arange(persons.min(), persons.max() + 1)
    axes[1].bar(values, [int((persons == v).sum()) for v in values], color=model_colour(1))
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
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
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
    side_legend(figure)
    score_colour_bar(figure, list(axes))
    return figure


def plot_persons(keypoint: np.ndarray, scores: np.ndarray, layout: Layout, frame: int, title: str = "",
                 min_score: float = 0.0, image_shape: tuple[int, int] | None = None):
    """Every person slot of one frame in its own colour.  keypoint: (M, T, V, 2), scores: (M, T, V)."""
    figure, axis = plt.subplots(figsize=(6, 4.5))
    for person in range(keypoint.shape[0]):
        if scores[person, frame].max() <= 0:
            continue  # slot empty in this frame
        colour = model_colour(person)
        # one colour per person; undetected joints stay hidden
        draw_skeleton(axis, keypoint[person, frame], layout, scores[person, frame].astype(np.float32), min_score,
                      color=colour, score_colours=False)
        axis.plot([], [], color=colour, marker="o",
                  label=f"slot {person} (mean score {scores[person, frame].astype(float).mean():.2f})")
    (x0, x1), (y0, y1) = clip_limits(keypoint[:, frame], scores[:, frame], min_score)
    if image_shape is not None:  # the whole image, widened to joints detected outside it
        height, width = image_shape
        x0, x1, y0, y1 = min(x0, 0), max(x1, width), max(y0, height), min(y1, 0)
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_xlabel(PIXEL_AXES[0])
    axis.set_ylabel(PIXEL_AXES[1])
    axis.legend(loc="upper right", fontsize=8)
    axis.set_title(title or f"frame {frame}")
    figure.tight_layout()
    return figure


def plot_joint_scores(joints: np.ndarray, scores: np.ndarray, layout: Layout, title: str = "",
                      name_below: float = 0.3):
    """One frame with joints coloured by detection score (colour bar), bones by side; joints below `name_below` named.

    joints: (V, 2), scores: (V,); joints with score 0 (not detected) are left out.
    """
    figure, axis = plt.subplots(figsize=(6, 4.8), layout="constrained")
    draw_skeleton(axis, joints, layout, scores.astype(np.float32), marker_size=70)
    (x0, x1), (y0, y1) = clip_limits(joints, scores, pad_share=0.2)
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_xlabel(PIXEL_AXES[0])
    axis.set_ylabel(PIXEL_AXES[1])
    score_colour_bar(figure, axis)
    for index in np.flatnonzero(scores < name_below):
        if scores[index] > 0:
            axis.annotate(f"{layout.joint_names[index]} {scores[index]:.2f}", joints[index], fontsize=8,
                          xytext=(5, 5), textcoords="offset points")
    side_legend(axis)
    axis.set_title(title)
    return figure


def plot_timeline(windows, class_names: list[str], title: str = ""):
    """Class probabilities over a video: one line per class at each window's centre (seconds), and the
    most probable class of every window as a band along the top.  `windows`: helpers.evaluation.timeline rows."""
    figure, axis = plt.subplots(figsize=(10, 3.4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    centres = [(window.start_s + window.end_s) / 2 for window in windows]
    for index, name in enumerate(class_names):
        colour = colours[index % len(colours)]
        axis.plot(centres, [window.probabilities[name] for window in windows], marker="o", markersize=3,
                  color=colour, label=name)
    # each window's band reaches halfway to its neighbours' centres, so the bands tile the video
    bounds = [windows[0].start_s] + [(a + b) / 2 for a, b in zip(centres, centres[1:])] + [windows[-1].end_s]
    for window, start, end in zip(windows, bounds, bounds[1:]):
        axis.axvspan(start, end, ymin=0.94, ymax=1.0, color=colours[class_names.index(window.label) % len(colours)],
                     linewidth=0)
    axis.set_ylim(0, 1.06)
    axis.set_xlim(windows[0].start_s, windows[-1].end_s)
    axis.set_xlabel("time (s), window centres")
    axis.set_ylabel("probability")
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right", fontsize=8)
    axis.set_title(title or "predictions over sliding windows (band: most probable class)")
    figure.tight_layout()
    return figure
