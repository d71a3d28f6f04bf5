"""Training: a function that fits one model and returns its per-epoch history.

The run folder receives `best.pt` (best validation macro-F1), `last.pt`,
`history.csv`, `config.yaml` and `splits.json`.  Plotting lives elsewhere.
"""
from __future__ import annotations

import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from helpers.training.checkpoint import save_checkpoint
from helpers.transforms.clips import ClipDataset, stream_channels
from helpers.config import Config, save_config
from helpers.data.source import open_dataset
from helpers.data.dataset import SkeletonDataset
from helpers.errors import UserInputError
from helpers.io import atomic_write, atomic_write_json, atomic_write_text
from helpers.models.registry import build_model, count_parameters, is_fitted, model_kwargs
from helpers.paths import runs_dir
from helpers.training.fit import fit_classical
from helpers.training.inference import make_views, pick_device, predict_views
from helpers.training.metrics import classification_metrics
from helpers.training.run_folder import history_csv, save_val_probabilities
from helpers.data.splits import config_splits


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # only for third-party code; the project itself passes Generators
    torch.manual_seed(seed)


def make_optimizer(model: nn.Module, config) -> torch.optim.Optimizer:
    """The optimizer of `config.optimizer`; weight decay applies to weight matrices and kernels only,
    not to biases, normalisation parameters or learnable adjacency offsets."""
    exempt = model.no_weight_decay() if hasattr(model, "no_weight_decay") else set()
    decay = [p for name, p in model.named_parameters() if p.ndim > 1 and name not in exempt]
    no_decay = [p for name, p in model.named_parameters() if p.ndim <= 1 or name in exempt]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=0.9, nesterov=True)
    raise UserInputError(f"train.optimizer: unknown optimizer {config.optimizer!r}; use adam, adamw or sgd")


def lr_factor(step: int, total_steps: int, warmup_steps: int, schedule: str) -> float:
    """Multiplier of the base learning rate at optimisation step `step` (0-based)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    raise UserInputError(f"train.schedule: unknown schedule {schedule!r}; use constant or cosine")


def train(config: Config, dataset: SkeletonDataset | None = None, run_dir: str | Path | None = None,
          verbose: bool = True) -> list[dict]:
    """Train `config.model` on train<split> minus validation; returns one dict per epoch.

    Each history row holds epoch, lr, train/val loss, accuracy and macro-F1, seconds
    spent, and the share of step time spent waiting for data.  With validation clips,
    `val_probabilities.npz` keeps every epoch's validation class probabilities
    (`probabilities` (E, N_val, K), `labels` (N_val,)), so rules for which epoch to
    test can be compared afterwards (`helpers.tools.crossval`).  A classical model
    (`is_fitted`) is fitted once instead (`helpers.training.fit`): one history row.
    """
    seed_everything(config.train.seed)
    if config.train.num_threads:
        torch.set_num_threads(config.train.num_threads)
    dataset = dataset if dataset is not None else open_dataset(config.data, verbose)
    out_dir = Path(run_dir) if run_dir is not None else runs_dir() / config.model.name
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = config_splits(dataset, config.data)
    atomic_write_json(out_dir / "splits.json", splits.as_dict())
    save_config(config, out_dir / "config.yaml")

    device = pick_device(config.train.device)
    if is_fitted(config.model.name):          # a classical model: one scikit-learn fit, no epochs
        return fit_classical(config, dataset, splits, out_dir, device, verbose)
    streams = list(config.model.streams)
    in_channels = stream_channels(streams)
    train_clips = [dataset.clip(i) for i in splits.train]
    val_clips = [dataset.clip(i) for i in splits.val]
    if not train_clips:
        raise UserInputError(f"{dataset.source}: the training split is empty")
    train_set = ClipDataset(train_clips, dataset.layout, config.preprocess, streams, config.augment,
                            seed=config.train.seed)
    val_views = make_views(val_clips, dataset.layout, config.preprocess, streams, config.augment.test_clips,
                           config.augment.test_flip)
    generator = torch.Generator().manual_seed(config.train.seed)
    train_loader = DataLoader(train_set, batch_size=config.train.batch_size, shuffle=True, generator=generator,
                              drop_last=len(train_set) > config.train.batch_size)

    kwargs = model_kwargs(config)
    model = build_model(config.model.name, dataset.num_classes, dataset.layout, in_channels, **kwargs).to(device)
    optimizer = make_optimizer(model, config.train)
    steps_per_epoch = len(train_loader)
    total_steps = steps_per_epoch * config.train.epochs
    warmup_steps = steps_per_epoch * config.train.warmup_epochs
    criterion = nn.CrossEntropyLoss(label_smoothing=config.train.label_smoothing)
    if verbose:
        print(f"Model {config.model.name}: {count_parameters(model):,} parameters, device {device}; "
              f"{len(train_set)} train / {len(val_clips)} val clips ({splits.protocol})")

    history: list[dict] = []
    val_probabilities: list[np.ndarray] = []  # one (N_val, K) array per epoch
    (out_dir / "val_probabilities.npz").unlink(missing_ok=True)  # never leave an earlier run's scores behind
    best_f1, best_epoch, step = -1.0, 0, 0
    for epoch in range(1, config.train.epochs + 1):
        train_set.set_epoch(epoch)
        model.train()
        losses, predictions, labels = [], [], []
        data_seconds = step_seconds = 0.0
        start = tick = time.perf_counter()
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{config.train.epochs}", leave=False, disable=not verbose)
        for inputs, targets in bar:
            fetched = time.perf_counter()
            data_seconds += fetched - tick
            for group in optimizer.param_groups:
                group["lr"] = config.train.lr * lr_factor(step, total_steps, warmup_steps, config.train.schedule)
            inputs, targets = inputs.to(device), targets.to(device)
            logits = model(inputs)
            loss = criterion(logits, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.train.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), config.train.grad_clip)
            optimizer.step()
            step += 1
            losses.append(loss.item() * len(targets))
            predictions.append(logits.argmax(1).cpu())
            labels.append(targets.cpu())
            tick = time.perf_counter()
            step_seconds += tick - fetched
            bar.set_postfix(loss=f"{loss.item():.3f}")
        train_labels = torch.cat(labels).numpy()
        train_metrics = classification_metrics(train_labels, torch.cat(predictions).numpy(), dataset.num_classes)
        row = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"],
               "train_loss": sum(losses) / len(train_labels), "train_acc": train_metrics["acc"],
               "train_f1": train_metrics["f1"]}
        if val_clips:
            probabilities, val_labels = predict_views(model, val_views, device)
            val_metrics = classification_metrics(val_labels.numpy(), probabilities.argmax(1).numpy(),
                                                 dataset.num_classes)
            row.update(val_loss=float(nn.functional.nll_loss(probabilities.clamp_min(1e-12).log(), val_labels)),
                       val_acc=val_metrics["acc"], val_f1=val_metrics["f1"])
            val_probabilities.append(probabilities.numpy().astype(np.float32))
        else:
            row.update(val_loss=float("nan"), val_acc=float("nan"), val_f1=float("nan"))
        row.update(seconds=time.perf_counter() - start,
                   data_wait_share=data_seconds / max(1e-9, data_seconds + step_seconds))
        history.append(row)
        if verbose:
            tqdm.write(f"[Ep {epoch:03d}] train: loss={row['train_loss']:.4f} acc={row['train_acc']:.4f} "
                       f"f1={row['train_f1']:.4f} | val: loss={row['val_loss']:.4f} acc={row['val_acc']:.4f} "
                       f"f1={row['val_f1']:.4f}")
        metrics = {k: v for k, v in row.items() if isinstance(v, float)}
        # with no validation clips, the last epoch counts as best
        score = row["val_f1"] if val_clips else float(epoch)
        if score > best_f1:
            best_f1, best_epoch = score, epoch
            save_checkpoint(out_dir / "best.pt", model, config, dataset.class_names, dataset.layout, in_channels,
                            kwargs, epoch, metrics)
        save_checkpoint(out_dir / "last.pt", model, config, dataset.class_names, dataset.layout, in_channels,
                        kwargs, epoch, metrics)
        atomic_write_text(out_dir / "history.csv", history_csv(history))
    if val_probabilities:  # written once: they are read after training, never while it runs
        save_val_probabilities(out_dir / "val_probabilities.npz", np.stack(val_probabilities), val_labels.numpy())
    if verbose:
        print(f"Best epoch {best_epoch} (val macro-F1 {history[best_epoch - 1]['val_f1']:.4f}) "
              f"saved to {out_dir / 'best.pt'}")
    return history
