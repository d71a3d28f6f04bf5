"""Evaluation of a trained checkpoint on the test (or validation) clips."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.training.checkpoint import LoadedCheckpoint
from helpers.data.dataset import SkeletonDataset
from helpers.errors import UserInputError
from helpers.io import atomic_write, atomic_write_json
from helpers.data.splits import config_splits
from helpers.training.device import pick_device
from helpers.training.inference import make_views, predict_views
from helpers.training.metrics import classification_metrics, confusion_matrix, per_class_scores


def split_clips(dataset: SkeletonDataset, checkpoint: LoadedCheckpoint, split: str) -> list[dict]:
    """The clips of 'test', 'val' or 'train' as the checkpoint's config defines them."""
    splits = config_splits(dataset, checkpoint.config.data)
    if split not in ("train", "val", "test"):
        raise UserInputError(f"unknown split {split!r}; use test, val or train")
    return [dataset.clip(i) for i in getattr(splits, split)]


def clip_probabilities(checkpoint: LoadedCheckpoint, clips: list[dict], device: str = "auto") -> np.ndarray:
    """Class probabilities (N, K), averaged over `augment.test_clips` sampled views of each clip
    (and their mirror images with `augment.test_flip`)."""
    device = pick_device(device, where="--device")
    model = checkpoint.model.to(device).eval()
    views = make_views(clips, checkpoint.layout, checkpoint.preprocess, checkpoint.streams,
                       checkpoint.config.augment.test_clips, checkpoint.config.augment.test_flip)
    probabilities, _ = predict_views(model, views, device)
    return probabilities.numpy()


def check_fusable(checkpoints: list[LoadedCheckpoint]) -> None:
    """Refuse to fuse checkpoints that disagree on classes or on the train/val/test clips."""
    first = checkpoints[0]
    for other in checkpoints[1:]:
        if other.class_names != first.class_names:
            raise UserInputError(f"{other.path}: classes differ from {first.path}'s; late fusion needs the "
                                 "same classes")
        if other.config.data != first.config.data:
            raise UserInputError(f"{other.path}: data settings (file, split, validation carve-out) differ from "
                                 f"{first.path}'s; late fusion needs the same clips")


def fused_probabilities(checkpoints: list[LoadedCheckpoint], clips: list[dict],
                        weights: list[float] | None = None, device: str = "auto") -> np.ndarray:
    """Late fusion: the weighted mean of each checkpoint's class probabilities (N, K); equal weights by default.

    Each checkpoint reads the clips with its own streams and preprocessing, so models
    trained on different streams (joint, bone, motion) fuse by their scores.
    """
    weights = [1.0] * len(checkpoints) if weights is None else list(weights)
    if len(weights) != len(checkpoints) or min(weights) < 0 or sum(weights) <= 0:
        raise UserInputError(f"fusion weights {weights}: give one non-negative weight per checkpoint")
    total = sum(w * clip_probabilities(c, clips, device) for w, c in zip(weights, checkpoints))
    return total / sum(weights)


def evaluate(checkpoint: LoadedCheckpoint | list[LoadedCheckpoint], dataset: SkeletonDataset, split: str = "test",
             out_dir: str | Path | None = None, verbose: bool = True, weights: list[float] | None = None,
             device: str = "auto") -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix on `split`.

    `checkpoint` may be a list: their scores are fused late (`fused_probabilities`,
    with `weights`).  With `out_dir`, writes `metrics_<split>.json` and
    `confusion_<split>.png` there.  The models run on `device` (auto, cpu, cuda, cuda:N).
    """
    checkpoints = list(checkpoint) if isinstance(checkpoint, (list, tuple)) else [checkpoint]
    if not checkpoints:
        raise UserInputError("no checkpoint to evaluate")
    check_fusable(checkpoints)
    checkpoint = checkpoints[0]
    for member in checkpoints:
        member.check_fits(dataset.source, dataset.layout.num_joints, dataset.layout.name)
    if dataset.class_names != checkpoint.class_names:
        raise UserInputError(
            f"{dataset.source}: classes {dataset.class_names[:5]}... differ from the checkpoint's "
            f"{checkpoint.class_names[:5]}... (check data.classes in the config)"
        )
    clips = split_clips(dataset, checkpoint, split)
    if not clips:
        raise UserInputError(f"{dataset.source}: split {split!r} is empty")
    labels = np.array([clip["label"] for clip in clips])
    probabilities = fused_probabilities(checkpoints, clips, weights, device)
    predictions = probabilities.argmax(1)
    num_classes = len(checkpoint.class_names)
    model_name = "+".join(member.model_name for member in checkpoints)
    summary = classification_metrics(labels, predictions, num_classes)
    scores = per_class_scores(labels, predictions, num_classes)
    matrix = confusion_matrix(labels, predictions, num_classes)
    metrics = {
        "split": split,
        "checkpoint": str(checkpoint.path) if len(checkpoints) == 1 else [str(c.path) for c in checkpoints],
        "model": model_name,
        "fusion_weights": weights if len(checkpoints) > 1 else None,
        "num_clips": len(clips),
        "accuracy": summary["acc"],
        "macro_f1": summary["f1"],
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(checkpoint.class_names, scores["precision"], scores["recall"],
                                        scores["f1"], scores["support"])
        },
        "confusion_matrix": matrix.tolist(),
        "class_names": checkpoint.class_names,
        "frame_dirs": [clip["frame_dir"] for clip in clips],
        "predictions": predictions.tolist(),
        "labels": labels.tolist(),
        "config": checkpoint.config.to_dict(),
    }
    if verbose:
        print(f"{model_name} on {split} ({len(clips)} clips): accuracy={metrics['accuracy']:.4f} "
              f"macro-F1={metrics['macro_f1']:.4f}")
    if out_dir is not None:
        from helpers.viz.plotting import figure_png, plot_confusion_matrix  # matplotlib only when writing figures

        out_dir = Path(out_dir)
        # drawn before anything is written, so that a failing figure leaves no metrics without it
        png = figure_png(plot_confusion_matrix(matrix, checkpoint.class_names,
                                               title=f"{model_name} — {split} (acc {metrics['accuracy']:.3f})"))
        atomic_write(out_dir / f"confusion_{split}.png", lambda file: file.write(png))
        atomic_write_json(out_dir / f"metrics_{split}.json", metrics)
    return metrics
