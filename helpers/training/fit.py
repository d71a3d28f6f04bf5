"""Fitting a classical model (helpers.models.classical): one scikit-learn fit instead of epochs.

`train()` hands classical models here; the run folder gets the same files as a
neural run (`best.pt` = `last.pt`, `history.csv` with one row, `config.yaml`,
`splits.json`, `val_probabilities.npz` with one "epoch"), so the benchmark,
cross-validation, evaluation and late fusion read it like any other run.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from helpers.config import Config
from helpers.data.dataset import SkeletonDataset
from helpers.data.splits import Splits
from helpers.errors import UserInputError
from helpers.io import atomic_write_text
from helpers.models.classical import ClassicalModel
from helpers.models.features import skeleton_features
from helpers.models.registry import build_model, count_parameters, model_kwargs
from helpers.training.checkpoint import save_checkpoint
from helpers.training.inference import make_views, predict_views
from helpers.training.metrics import classification_metrics
from helpers.training.run_folder import history_csv, save_val_probabilities
from helpers.transforms.clips import ClipDataset, stream_channels


def training_features(model: ClassicalModel, clips: list[dict], dataset: SkeletonDataset, config: Config
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Features (copies * N, F) float32 and labels (copies * N,) of the training clips: copy 0 is the
    plain view, copy k > 0 the augmented view of epoch k (seeded by train.seed, as neural training)."""
    copies = model.settings["copies"]
    if copies > 1 and not config.augment.enabled:
        raise UserInputError("model.extra.copies > 1 needs augment.enabled: true (otherwise every copy is the same)")
    streams = list(config.model.streams)
    features, labels = [], []
    for copy in range(copies):
        views = ClipDataset(clips, dataset.layout, config.preprocess, streams,
                            config.augment if copy else None, seed=config.train.run_seed())
        views.set_epoch(copy)
        for inputs, targets in DataLoader(views, batch_size=256):
            features.append(skeleton_features(inputs, dataset.layout, model.segments).numpy())
            labels.append(targets.numpy())
    return np.concatenate(features), np.concatenate(labels)


def fit_classical(config: Config, dataset: SkeletonDataset, splits: Splits, out_dir: Path, device: torch.device,
                  verbose: bool = True) -> list[dict]:
    """Fit `config.model` (a classical model) on the training clips of `splits`; returns a one-row history."""
    start = time.perf_counter()
    streams = list(config.model.streams)
    in_channels = stream_channels(streams)
    kwargs = model_kwargs(config)
    model = build_model(config.model.name, dataset.num_classes, dataset.layout, in_channels, **kwargs)
    train_clips = [dataset.clip(i) for i in splits.train]
    val_clips = [dataset.clip(i) for i in splits.val]
    features, labels = training_features(model, train_clips, dataset, config)
    model.fit(features, labels, seed=config.train.run_seed())
    model = model.to(device).eval()
    if verbose:
        print(f"Model {config.model.name} ({model.estimator}): fitted on {len(train_clips)} train clips "
              f"x {model.settings['copies']} views, {features.shape[1]} features, {count_parameters(model):,} "
              f"stored values; {len(val_clips)} val clips ({splits.protocol})")

    train_views = make_views(train_clips, dataset.layout, config.preprocess, streams, 1)
    probabilities, train_labels = predict_views(model, train_views, device)
    train_metrics = classification_metrics(train_labels.numpy(), probabilities.argmax(1).numpy(), dataset.num_classes)
    row = {"epoch": 1, "lr": 0.0,
           "train_loss": float(nn.functional.nll_loss(probabilities.clamp_min(1e-12).log(), train_labels)),
           "train_acc": train_metrics["acc"], "train_f1": train_metrics["f1"],
           "val_loss": float("nan"), "val_acc": float("nan"), "val_f1": float("nan")}
    if val_clips:
        views = make_views(val_clips, dataset.layout, config.preprocess, streams, config.augment.test_clips,
                           config.augment.test_flip)
        probabilities, val_labels = predict_views(model, views, device)
        val_metrics = classification_metrics(val_labels.numpy(), probabilities.argmax(1).numpy(), dataset.num_classes)
        row.update(val_loss=float(nn.functional.nll_loss(probabilities.clamp_min(1e-12).log(), val_labels)),
                   val_acc=val_metrics["acc"], val_f1=val_metrics["f1"])
        save_val_probabilities(out_dir, probabilities.numpy().astype(np.float32)[None], val_labels.numpy())
    row.update(seconds=time.perf_counter() - start, data_wait_share=0.0)
    metrics = {k: v for k, v in row.items() if isinstance(v, float)}
    for name in ("best.pt", "last.pt"):    # one fit: the best and the last "epoch" are the same
        save_checkpoint(out_dir / name, model, config, dataset.class_names, dataset.layout, in_channels, kwargs,
                        1, metrics)
    atomic_write_text(out_dir / "history.csv", history_csv([row]))
    if verbose:
        val = f"acc={row['val_acc']:.4f} f1={row['val_f1']:.4f}" if val_clips else "no clips"
        print(f"[fit] train: acc={row['train_acc']:.4f} f1={row['train_f1']:.4f} | val: {val} "
              f"({row['seconds']:.1f} s); saved to {out_dir / 'best.pt'}")
    return [row]
