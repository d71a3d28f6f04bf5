"""Comparing trained models: scores over training seeds, the comparison table, which differences the data
support, confusion matrices, per-class F1 and misclassified clips.

`results` below maps a run name to the metrics dict of `helpers.evaluation.scoring.evaluate`
(accuracy, macro_f1, per_class, confusion_matrix, frame_dirs, predictions, labels).
`scores` is the DataFrame of `seed_scores`: one row per (model, seed) on one set of clips.
Scores are fractions in tables and JSON; `percent_table` formats them for reading.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from helpers.data.dataset import SkeletonDataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import evaluate, split_clips
from helpers.evaluation.timing import environment, inference_latency_ms
from helpers.io import atomic_write_json
from helpers.models.registry import count_parameters
from helpers.training.checkpoint import LoadedCheckpoint
from helpers.training.device import pick_device
from helpers.training.inference import make_views, predict_views
from helpers.training.metrics import classification_metrics
from helpers.transforms.clips import stream_channels
from helpers.transforms.preprocess import rank_persons
from helpers.viz.plotting import (clip_limits, draw_skeleton, model_colour, plot_confusion_matrix, side_legend)

BEST_MARK = "\u2605"   # marks the best model in percent_table


def evaluate_models(checkpoints: dict[str, LoadedCheckpoint], dataset: SkeletonDataset, split: str = "test",
                    out_dirs: dict[str, Path] | None = None, device: str = "auto") -> dict[str, dict]:
    """`evaluate` every checkpoint on `split` (on `device`); with `out_dirs`, metrics and confusion figure go there."""
    return {name: evaluate(checkpoint, dataset, split, out_dir=(out_dirs or {}).get(name), device=device)
            for name, checkpoint in checkpoints.items()}


# ---- scores over training seeds ------------------------------------------------------

def seed_scores(seed_checkpoints: dict[str, dict[int, LoadedCheckpoint]], dataset: SkeletonDataset,
                split: str = "test", device: str = "auto") -> pd.DataFrame:
    """Accuracy and macro-F1 of every model and training seed on `split` of `dataset`.

    seed_checkpoints: model -> seed -> checkpoint (the seeds of one model share
    their preprocessing, so the test views are made once per preprocessing, not
    per checkpoint).  One row per (model, seed): model, seed, clips, accuracy,
    macro_f1 and `correct`, the per-clip correctness (N,) bool, in the split's
    clip order.
    """
    rows = []
    device = pick_device(device, where="device")
    made: dict[str, list] = {}   # the views of each preprocessing, streams and test views
    for model, by_seed in seed_checkpoints.items():
        if not by_seed:
            raise UserInputError(f"{model}: no checkpoint to score")
        first = next(iter(by_seed.values()))
        first.check_fits(dataset.source, dataset.layout.num_joints, dataset.layout.name)
        if dataset.class_names != first.class_names:
            raise UserInputError(f"{dataset.source}: classes differ from those of {first.path}")
        clips = split_clips(dataset, first, split)
        if not clips:
            raise UserInputError(f"{dataset.source}: split {split!r} is empty")
        augment = first.config.augment
        key = repr((split, first.preprocess, first.streams, augment.test_clips, augment.test_flip))
        if key not in made:
            made[key] = make_views(clips, first.layout, first.preprocess, first.streams, augment.test_clips,
                                   augment.test_flip)
        views = made[key]
        labels = np.array([clip["label"] for clip in clips])
        for seed, checkpoint in by_seed.items():
            other = checkpoint.config
            if (other.preprocess, other.model.streams, other.augment.test_clips, other.augment.test_flip) != (
                    first.preprocess, first.streams, augment.test_clips, augment.test_flip):
                raise UserInputError(f"{checkpoint.path}: preprocessing differs from {first.path}'s; the seeds "
                                     "of one model must share it")
            probabilities, _ = predict_views(checkpoint.model.to(device).eval(), views, device)
            predictions = probabilities.argmax(1).numpy()
            metrics = classification_metrics(labels, predictions, len(first.class_names))
            rows.append({"model": model, "seed": seed, "clips": len(clips), "accuracy": metrics["acc"],
                         "macro_f1": metrics["f1"], "correct": predictions == labels})
    return pd.DataFrame(rows)


def seed_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Per model (first-appearance order): seeds, clips, mean and standard deviation (ddof 1) over seeds."""
    rows = []
    for model, group in scores.groupby("model", sort=False):
        rows.append({"model": model, "seeds": len(group), "clips": int(group["clips"].iloc[0]),
                     "accuracy": group["accuracy"].mean(), "accuracy_std": group["accuracy"].std(ddof=1),
                     "macro_f1": group["macro_f1"].mean(), "macro_f1_std": group["macro_f1"].std(ddof=1)})
    return pd.DataFrame(rows).set_index("model")


def per_seed_table(scores: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Accuracy in percent of every model (rows) and seed on each named set of `seed_scores` (columns
    '<set> seed <k>'); sets given as None are left out, seeds a model lacks are blank."""
    columns = {}
    for set_name, frame in scores.items():
        if frame is None:
            continue
        for seed, group in frame.groupby("seed", sort=True):
            columns[f"{set_name} seed {seed}"] = {row["model"]: f"{100 * row['accuracy']:.1f}"
                                                  for _, row in group.iterrows()}
    models = list(dict.fromkeys(m for frame in scores.values() if frame is not None for m in frame["model"]))
    return pd.DataFrame(columns, index=pd.Index(models, name="model")).fillna("")


def accuracy_difference(scores: pd.DataFrame, first: str, second: str) -> dict:
    """Mean accuracy of `first` minus `second` over their seeds, with its standard error.

    The error adds the two sources of noise: which clips are in the test set
    (the spread over clips of the seed-averaged correctness difference, / sqrt(N))
    and which seeds were drawn (each model's seed variance / its seed count; 0
    with one seed, which then hides that noise).
    """
    a, b = scores[scores["model"] == first], scores[scores["model"] == second]
    if a.empty or b.empty:
        raise UserInputError(f"no scores for {first if a.empty else second!r}")
    per_clip = np.mean(np.stack(a["correct"].to_list()), axis=0) - np.mean(np.stack(b["correct"].to_list()), axis=0)
    clip_error = per_clip.std(ddof=1) / math.sqrt(len(per_clip)) if len(per_clip) > 1 else 0.0
    seed_variance = sum(group["accuracy"].var(ddof=1) / len(group) for group in (a, b) if len(group) > 1)
    return {"difference": float(per_clip.mean()), "standard_error": float(math.sqrt(clip_error ** 2 + seed_variance)),
            "clips": len(per_clip), "seeds": min(len(a), len(b))}


def verdicts(scores: pd.DataFrame, baseline: str, set_name: str) -> list[str]:
    """Plain sentences on which accuracy differences exceed twice their standard error.

    Compares every model with the baseline, then each pair of neighbours in the
    ranking by mean accuracy, so the sentences say how far the data order the models.
    """
    summary = seed_summary(scores)
    ranking = list(summary["accuracy"].sort_values(ascending=False, kind="stable").index)
    pairs = [(model, baseline) for model in summary.index if model != baseline]
    pairs += [(a, b) for a, b in zip(ranking, ranking[1:]) if (a, b) not in pairs and (b, a) not in pairs]
    sentences = []
    for first, second in pairs:
        d = accuracy_difference(scores, first, second)
        points, margin = 100 * d["difference"], 200 * d["standard_error"]
        if abs(points) > margin:
            better, worse = (first, second) if points > 0 else (second, first)
            verdict = f"{better} is better than {worse}"
        else:
            verdict = f"no clear difference between {first} and {second}"
        seeds = "1 seed: the seed spread is not counted" if d["seeds"] < 2 else f"{d['seeds']} seeds"
        sentences.append(f"{set_name}: {first} - {second} = {points:+.1f} points (twice its standard error "
                         f"{margin:.1f}; {d['clips']} clips, {seeds}): {verdict}.")
    return sentences


# ---- the table -------------------------------------------------------------------

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


def comparison_table(checkpoints: dict[str, LoadedCheckpoint], test_scores: pd.DataFrame,
                     fresh_scores: pd.DataFrame | None = None, latencies: dict[str, float] | None = None,
                     baseline: str | None = None) -> pd.DataFrame:
    """One row per model: mean and std over seeds of accuracy and macro-F1 on the test split (and on the
    fresh test set), the means' difference to the baseline, seeds, clips, parameters, ms per clip and the
    first seed's best epoch.  `checkpoints`: each model's first-seed checkpoint."""
    test = seed_summary(test_scores)
    baseline = baseline or test.index[0]
    fresh = seed_summary(fresh_scores) if fresh_scores is not None and not fresh_scores.empty else None
    rows = []
    for name, row in test.iterrows():
        checkpoint = checkpoints[name]
        entry = {"model": name, "class": type(checkpoint.model).__name__, "seeds": int(row["seeds"]),
                 "test_clips": int(row["clips"]), "accuracy": row["accuracy"], "accuracy_std": row["accuracy_std"],
                 "macro_f1": row["macro_f1"], "macro_f1_std": row["macro_f1_std"],
                 "accuracy_vs_baseline": row["accuracy"] - test.loc[baseline, "accuracy"],
                 "macro_f1_vs_baseline": row["macro_f1"] - test.loc[baseline, "macro_f1"]}
        if fresh is not None:
            entry.update(fresh_clips=int(fresh.loc[name, "clips"]), fresh_accuracy=fresh.loc[name, "accuracy"],
                         fresh_accuracy_std=fresh.loc[name, "accuracy_std"], fresh_macro_f1=fresh.loc[name, "macro_f1"],
                         fresh_macro_f1_std=fresh.loc[name, "macro_f1_std"],
                         fresh_accuracy_vs_baseline=fresh.loc[name, "accuracy"] - fresh.loc[baseline, "accuracy"])
        entry.update(parameters=count_parameters(checkpoint.model),
                     ms_per_clip=(latencies or {}).get(name, float("nan")), best_epoch=checkpoint.state.get("epoch"))
        rows.append(entry)
    return pd.DataFrame(rows).set_index("model")


def best_model(table: pd.DataFrame) -> str:
    """The model of highest mean macro-F1 on the largest test set in the table (the fresh one when present)."""
    column = "fresh_macro_f1" if "fresh_macro_f1" in table and table["fresh_macro_f1"].notna().all() else "macro_f1"
    return str(table[column].idxmax())


def _percent(mean, std=None, signed: bool = False) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    text = f"{100 * mean:+.1f}" if signed else f"{100 * mean:.1f}"
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        text += f" ± {100 * std:.1f}"
    return text


def percent_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table for reading: scores in percent as 'mean ± std' over seeds, differences to the
    baseline in points, clip and seed counts, the best model (`best_model`) marked with BEST_MARK."""
    best = best_model(table)
    has_fresh = "fresh_accuracy" in table
    rows = []
    for name, row in table.iterrows():
        shown = {"model": f"{name} {BEST_MARK}" if name == best else name, "class": row["class"],
                 "seeds": int(row["seeds"]),
                 f"test accuracy % ({int(row['test_clips'])} clips)": _percent(row["accuracy"], row["accuracy_std"]),
                 "test macro-F1 %": _percent(row["macro_f1"], row["macro_f1_std"]),
                 "Δ accuracy (points)": _percent(row["accuracy_vs_baseline"], signed=True)}
        if has_fresh:
            shown[f"fresh test accuracy % ({int(row['fresh_clips'])} clips)"] = _percent(
                row["fresh_accuracy"], row["fresh_accuracy_std"])
            shown["fresh macro-F1 %"] = _percent(row["fresh_macro_f1"], row["fresh_macro_f1_std"])
            shown["fresh Δ accuracy (points)"] = _percent(row["fresh_accuracy_vs_baseline"], signed=True)
        ms = row.get("ms_per_clip")
        shown.update({"parameters": f"{int(row['parameters']):,}",
                      "ms per clip": "-" if ms is None or ms != ms else f"{ms:.2f}",
                      "best epoch (first seed)": "-" if row.get("best_epoch") is None else int(row["best_epoch"])})
        rows.append(shown)
    return pd.DataFrame(rows).set_index("model")


def save_comparison(table: pd.DataFrame, path: str | Path, **context) -> Path:
    """Write the table (and `context`: dataset, config, smoke flag, verdicts...) as JSON for the report."""
    rows = [{"model": name, **{k: (None if isinstance(v, float) and np.isnan(v) else v)
                               for k, v in row.items()}}
            for name, row in table.to_dict(orient="index").items()]
    return atomic_write_json(path, {"models": rows, **context})


def load_comparison(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def table_from_comparison(comparison: dict) -> pd.DataFrame:
    """The comparison table back from what `save_comparison` wrote (missing numbers as None or NaN)."""
    return pd.DataFrame(comparison["models"]).set_index("model")


# ---- figures of one seed -------------------------------------------------------------

def plot_confusion_matrices(results: dict[str, dict], columns: int = 2):
    """The models' row-normalised confusion matrices in a grid of `columns` columns, each big enough to read."""
    names = list(results)
    first = results[names[0]]
    size = max(4.5, 0.5 * len(first["class_names"]) + 2)
    columns = max(1, min(columns, len(names)))
    rows = math.ceil(len(names) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=((size + 1.2) * columns, (size + 0.6) * rows),
                                squeeze=False, layout="constrained")
    for index, axis in enumerate(axes.flat):
        if index >= len(names):
            axis.axis("off")
            continue
        metrics = results[names[index]]
        plot_confusion_matrix(np.array(metrics["confusion_matrix"]), metrics["class_names"], axis=axis,
                              colour_bar=index % columns == columns - 1 or index == len(names) - 1,
                              title=f"{names[index]}: accuracy {100 * metrics['accuracy']:.1f}%, "
                                    f"macro-F1 {100 * metrics['macro_f1']:.1f}% ({metrics['num_clips']} clips)")
    return figure


def per_class_f1(results: dict[str, dict]) -> pd.DataFrame:
    """F1 per class (rows) and model (columns)."""
    return pd.DataFrame({name: {cls: values["f1"] for cls, values in metrics["per_class"].items()}
                         for name, metrics in results.items()})


def plot_per_class_f1(results: dict[str, dict]):
    """Grouped bars: F1 of every class for every model; the legend sits above the bars, never on them."""
    table = per_class_f1(results)
    figure, axis = plt.subplots(figsize=(max(8.0, 0.9 * len(table) + 2), 4.4), layout="constrained")
    table.plot.bar(ax=axis, width=0.8, color=[model_colour(i) for i in range(table.shape[1])])
    axis.set_ylabel("F1 on the test split")
    axis.set_ylim(0, 1.0)
    axis.set_xlabel("true class")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(title="model", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=table.shape[1], fontsize=9,
                frameon=False)
    plt.setp(axis.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
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
    """Each misclassified clip's main person at start, middle and end (bones by side); the label says true vs predicted."""
    if wrong.empty:
        figure, axis = plt.subplots(figsize=(6, 1))
        axis.axis("off")
        axis.text(0.5, 0.5, f"{model} classifies every test clip correctly", ha="center", va="center")
        return figure
    figure, axes = plt.subplots(len(wrong), 3, figsize=(10, 3.3 * len(wrong)), squeeze=False, layout="constrained")
    for row_axes, (_, row) in zip(axes, wrong.iterrows()):
        clip = dataset.clip(row["frame_dir"])
        person = int(rank_persons(clip["keypoint_score"], person_strategy)[0])
        keypoint, scores = clip["keypoint"][person].astype(np.float32), clip["keypoint_score"][person]
        (x0, x1), (y0, y1) = clip_limits(keypoint, scores)
        total = len(keypoint)
        for axis, frame in zip(row_axes, (0, total // 2, total - 1)):
            draw_skeleton(axis, keypoint[frame], dataset.layout, scores[frame].astype(np.float32), score_colours=False)
            axis.set_xlim(x0, x1)
            axis.set_ylim(y0, y1)
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_title(f"frame {frame}", fontsize=9)
        row_axes[0].set_ylabel(f"{row['frame_dir']}\ntrue {row['true']}\n{model}: {row[model]}", fontsize=9)
    side_legend(figure)
    return figure
