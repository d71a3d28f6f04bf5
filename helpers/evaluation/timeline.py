"""Predictions over time: a checkpoint applied to sliding windows of one long clip.

A window is `window` consecutive frames; windows start every `stride` frames, and
a last one ends at the clip's end so no frame is left out.  Each window is
predicted as a clip of its own (the checkpoint's preprocessing and test views).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from helpers.errors import UserInputError
from helpers.evaluation.scoring import clip_probabilities
from helpers.io import atomic_write_text
from helpers.training.checkpoint import LoadedCheckpoint


@dataclass
class Window:
    start_frame: int        # first frame, inclusive
    end_frame: int          # last frame, exclusive
    start_s: float
    end_s: float
    label: str              # the most probable class
    probability: float
    person_frames: int      # frames of the window in which a person was detected
    probabilities: dict     # class name -> probability


def sliding_windows(frames: int, window: int, stride: int) -> list[tuple[int, int]]:
    """(start, end) frame ranges covering `frames` frames; one range when the clip is not longer than `window`."""
    if window < 1 or stride < 1:
        raise UserInputError(f"window ({window}) and stride ({stride}) must be at least 1 frame")
    if frames <= window:
        return [(0, frames)]
    starts = list(range(0, frames - window + 1, stride))
    if starts[-1] + window < frames:
        starts.append(frames - window)
    return [(start, start + window) for start in starts]


def timeline(checkpoint: LoadedCheckpoint, keypoint: np.ndarray, score: np.ndarray, fps: float,
             window: int, stride: int, device: str = "auto") -> list[Window]:
    """The checkpoint's prediction for every sliding window of one person's keypoints.

    keypoint: (T, V, 2) pixels, score: (T, V).
    """
    ranges = sliding_windows(len(keypoint), window, stride)
    clips = [{"frame_dir": f"frames {start}-{end}", "label": 0, "keypoint": keypoint[None, start:end],
              "keypoint_score": score[None, start:end]} for start, end in ranges]
    probabilities = clip_probabilities(checkpoint, clips, device)  # (windows, K)
    names = checkpoint.class_names
    rows = []
    for (start, end), row in zip(ranges, probabilities):
        best = int(row.argmax())
        rows.append(Window(start, end, round(start / fps, 3), round(end / fps, 3), names[best], float(row[best]),
                           int((score[start:end].max(axis=1) > 0).sum()),
                           {name: float(p) for name, p in zip(names, row)}))
    return rows


def frame_windows(rows: list[Window], frames: int) -> np.ndarray:
    """Per frame, the index of the window shown for it: the one whose centre is nearest, shape (T,)."""
    centres = np.array([(row.start_frame + row.end_frame - 1) / 2 for row in rows])
    return np.abs(np.arange(frames)[:, None] - centres[None]).argmin(axis=1)


def format_timeline(rows: list[Window]) -> str:
    """One line per window: start-end seconds, label, probability, frames with a person."""
    lines = [f"{'start':>8s} {'end':>8s}  {'label':<24s} {'prob':>5s}  person"]
    for row in rows:
        frames = row.end_frame - row.start_frame
        lines.append(f"{row.start_s:7.2f}s {row.end_s:7.2f}s  {row.label:<24s} {row.probability:5.3f}  "
                     f"{row.person_frames}/{frames}")
    return "\n".join(lines)


def write_timeline(rows: list[Window], path: str | Path) -> Path:
    """The windows as CSV (one column per class probability) or JSON, chosen by the suffix."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return atomic_write_text(path, json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    if path.suffix.lower() != ".csv":
        raise UserInputError(f"{path}: write the timeline as .csv or .json")
    buffer = io.StringIO()
    names = list(rows[0].probabilities) if rows else []
    writer = csv.writer(buffer)
    writer.writerow(["start_frame", "end_frame", "start_s", "end_s", "label", "probability", "person_frames",
                     *[f"p_{name}" for name in names]])
    for row in rows:
        writer.writerow([row.start_frame, row.end_frame, row.start_s, row.end_s, row.label, f"{row.probability:.4f}",
                         row.person_frames, *[f"{row.probabilities[name]:.4f}" for name in names]])
    return atomic_write_text(path, buffer.getvalue())
