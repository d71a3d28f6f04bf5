"""Comparing trained models on one split: table, confusion matrices, per-class F1, misclassified clips.

`results` below maps a run name to the metrics dict of `helpers.evaluation.scoring.evaluate`
(accuracy, macro_f1, per_class, confusion_matrix, frame_dirs, predictions, labels).
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from helpers.data.dataset import SkeletonDataset
from helpers.evaluation.scoring import evaluate
from helpers.evaluation.timing import environment, inference_latency_ms
from helpers.io import atomic_write_json
from helpers.models.registry import count_parameters
from helpers.training.checkpoint import LoadedCheckpoint
from helpers.transforms.clips import stream_channels
from helpers.transforms.preprocess import rank_persons
from helpers.viz.plotting import clip_limits, draw_skeleton, plot_confusion_matrix


def evaluate_models(checkpoints: dict[str, LoadedCheckpoint], dataset: SkeletonDataset, split: str = "test",
                    out_dirs: dict[str, Path] | None = None) -> dict[str, dict]:
    """`evaluate` every checkpoint on `split`; with `out_dirs`, metrics and confusion figure go there."""
    return {name: evaluate(checkpoint, dataset, split, out_dir=(out_dirs or {}).get(name))
            for name, checkpoint in checkpoints.items()}


def input_shape(checkpoint: LoadedCheckpoint) -> tuple[int, int, int, int]:
    """One clip's model input shape (C, T, V, M) for this checkpoint."""
    preprocess = checkpoint.preprocess
    return (stream_channels(checkpoint.streams), preprocess.length, checkpoint.layout.num_joints,
            preprocess.max_persons)


def latencies_ms(checkpoints: dict[str, LoadedCheckpoint], repeats: int = 50, rounds: int = 5,
                 threads: int | None = 1) -> dict[str, float]:
    """Median CPU milliseconds of one forward pass on one clip (batch 1), per model (helpers.evaluation.timing).

    The models take turns over `rounds` rounds (repeats / rounds passes each) and the
    median of the rounds is kept, so a burst of load on a shared machine does not
    land on one model only.  `threads` torch threads are used meanwhile (None: leave
    as is): one by default, since a single clip's small matrices gain nothing from
    more, and one thread is far less disturbed by other processes on a busy machine.
    """
    per_round = max(1, repeats // rounds)
    times: dict[str, list[float]] = {name: [] for name in checkpoints}
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        for _ in range(rounds):
            for name, checkpoint in checkpoints.items():
                times[name].append(inference_latency_ms(checkpoint.model, input_shape(checkpoint),
                                                        repeats=per_round, warmup=2, device="cpu"))
    finally:
        torch.set_num_threads(previous)
    return {name: float(np.median(values)) for name, values in times.items()}


def timing_note(repeats: int, rounds: int = 5, threads: int | None = 1) -> str:
    """How and where `latencies_ms` measured: repeats, threads, CPUs and the load average at the time."""
    env = environment()
    load = env.get("load_average_1_5_15min")
    where = f"CPU, {threads or env['torch_threads']} torch thread(s) on {env['cpu_count']} cores"
    load_text = f", load average {' / '.join(str(x) for x in load)} (1/5/15 min)" if load else ""
    return (f"median of {rounds} rounds of {max(1, repeats // rounds)} forward passes, batch 1, {where}{load_text}; "
            f"torch {env['torch']}")


def comparison_table(results: dict[str, dict], checkpoints: dict[str, LoadedCheckpoint],
                     latencies: dict[str, float] | None = None, baseline: str | None = None) -> pd.DataFrame:
    """One row per model: accuracy, macro-F1, their difference to the baseline, parameters, ms per clip."""
    baseline = baseline or next(iter(results))
    base = results[baseline]
    rows = []
    for name, metrics in results.items():
        checkpoint = checkpoints[name]
        rows.append({
            "model": name,
            "class": type(checkpoint.model).__name__,
            "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"],
            "accuracy_vs_baseline": metrics["accuracy"] - base["accuracy"],
            "macro_f1_vs_baseline": metrics["macro_f1"] - base["macro_f1"],
            "parameters": count_parameters(checkpoint.model),
            "ms_per_clip": (latencies or {}).get(name, float("nan")),
            "best_epoch": checkpoint.state.get("epoch"),
            "test_clips": metrics["num_clips"],
        })
    return pd.DataFrame(rows).set_index("model")


def save_comparison(table: pd.DataFrame, path: str | Path, **context) -> Path:
    """Write the table (and `context`: dataset, config, smoke flag, environment...) as JSON for the report."""
    rows = [{"model": name, **{k: (None if isinstance(v, float) and np.isnan(v) else v)
                               for k, v in row.items()}}
            for name, row in table.to_dict(orient="index").items()]
    return atomic_write_json(path, {"models": rows, **context})


def load_comparison(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def plot_confusion_matrices(results: dict[str, dict]):
    """The models' normalised confusion matrices side by side, with class names."""
    names = list(results)
    first = results[names[0]]
    size = max(4.0, 0.45 * len(first["class_names"]) + 2)
    figure, axes = plt.subplots(1, len(names), figsize=((size + 1) * len(names), size))
    for axis, name in zip(np.atleast_1d(axes), names):
        metrics = results[name]
        plot_confusion_matrix(np.array(metrics["confusion_matrix"]), metrics["class_names"], axis=axis,
                              title=f"{name}: accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    figure.tight_layout()
    return figure


def per_class_f1(results: dict[str, dict]) -> pd.DataFrame:
    """F1 per class (rows) and model (columns)."""
    return pd.DataFrame({name: {cls: values["f1"] for cls, values in metrics["per_class"].items()}
                         for name, metrics in results.items()})


def plot_per_class_f1(results: dict[str, dict]):
    """Grouped bars: F1 of every class for every model."""
    table = per_class_f1(results)
    figure, axis = plt.subplots(figsize=(max(8.0, 0.8 * len(table) + 2), 4))
    table.plot.bar(ax=axis, width=0.8)
    axis.set_ylabel("F1 on the test split")
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(title="model")
    plt.setp(axis.get_xticklabels(), rotation=30, ha="right")
    figure.tight_layout()
    return figure


def misclassified(results: dict[str, dict], model: str, limit: int = 3) -> pd.DataFrame:
    """Up to `limit` test clips that `model` gets wrong, one per true class (split order), with every model's prediction."""
    chosen = results[model]
    names = chosen["class_names"]
    rows, classes_seen = [], set()
    for index, (label, predicted) in enumerate(zip(chosen["labels"], chosen["predictions"])):
        if label == predicted or label in classes_seen:
            continue
        classes_seen.add(label)
        row = {"frame_dir": chosen["frame_dirs"][index], "true": names[label]}
        for name, metrics in results.items():
            row[name] = names[metrics["predictions"][index]]
        rows.append(row)
        if len(rows) == limit:
            break
    return pd.DataFrame(rows, columns=["frame_dir", "true", *results])


def plot_misclassified(dataset: SkeletonDataset, wrong: pd.DataFrame, model: str, person_strategy: str = "max_score"):
    """Each misclassified clip's main person at start, middle and end; the title says true vs predicted."""
    if wrong.empty:
        figure, axis = plt.subplots(figsize=(6, 1))
        axis.axis("off")
        axis.text(0.5, 0.5, f"{model} classifies every test clip correctly", ha="center", va="center")
        return figure
    figure, axes = plt.subplots(len(wrong), 3, figsize=(10, 3.3 * len(wrong)), squeeze=False)
    for row_axes, (_, row) in zip(axes, wrong.iterrows()):
        clip = dataset.clip(row["frame_dir"])
        person = int(rank_persons(clip["keypoint_score"], person_strategy)[0])
        keypoint, scores = clip["keypoint"][person].astype(np.float32), clip["keypoint_score"][person]
        (x0, x1), (y0, y1) = clip_limits(keypoint, scores)
        total = len(keypoint)
        for axis, frame in zip(row_axes, (0, total // 2, total - 1)):
            draw_skeleton(axis, keypoint[frame], dataset.layout, scores[frame].astype(np.float32))
            axis.set_xlim(x0, x1)
            axis.set_ylim(y0, y1)
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_title(f"frame {frame}", fontsize=9)
        row_axes[0].set_ylabel(f"{row['frame_dir']}\ntrue {row['true']}\n{model}: {row[model]}", fontsize=9)
    figure.tight_layout()
    return figure
