"""Training: the one loop that fits a model and returns its per-epoch history.

The run folder receives `best.pt` (best validation macro-F1), `last.pt` (the
latest epoch, with the state a resumed run continues from), `history.csv`,
`config.yaml`, `splits.json`, `val_probabilities.npz` and, written last,
`run.json`, which marks the run finished (helpers.training.run_folder).  The same
loop runs alone on the CPU or a GPU, and as one of torchrun's processes
(helpers.training.distributed).  Plotting lives elsewhere.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from helpers.config import Config, check_config, save_config
from helpers.data.dataset import SkeletonDataset
from helpers.data.learnable import check_learnable
from helpers.data.source import open_dataset
from helpers.data.splits import config_splits
from helpers.errors import UserInputError
from helpers.io import atomic_write_json, atomic_write_text
from helpers.models.registry import build_model, count_parameters, is_fitted, model_kwargs
from helpers.paths import runs_dir
from helpers.training.checkpoint import save_checkpoint
from helpers.training.determinism import (data_generator, restore_rng_states, rng_states, seed_everything,
                                          use_deterministic_algorithms)
from helpers.training.device import loader_workers, pick_device, pick_precision, to_device
from helpers.training.distributed import World, join_world, torchrun_environment
from helpers.training.fit import fit_classical
from helpers.training.inference import make_views, predict_views
from helpers.training.metrics import classification_metrics
from helpers.training.resume import load_resume_state, to_cpu
from helpers.training.run_folder import (finish_run, history_csv, load_epoch_probabilities, save_epoch_probabilities,
                                         save_val_probabilities, start_run)
from helpers.training.step import NonFiniteLoss, lr_factor, make_optimizer, train_step
from helpers.transforms.clips import ClipDataset, stream_channels


def train(config: Config, dataset: SkeletonDataset | None = None, run_dir: str | Path | None = None,
          verbose: bool = True, resume: bool = False) -> list[dict]:
    """Train `config.model` on train<split> minus validation into `run_dir`; returns one dict per epoch.

    Each history row holds epoch, lr, train/val loss, accuracy and macro-F1, seconds
    spent, and the share of step time spent waiting for data.  With validation clips,
    `val_probabilities.npz` keeps every epoch's validation class probabilities
    (`probabilities` (E, N_val, K), `labels` (N_val,)), so rules for which epoch to
    test can be compared afterwards (`helpers.tools.crossval`).  With `resume`, the
    interrupted run in `run_dir` continues from its `last.pt` (same config required).
    Under torchrun every process calls this; each returns the same history.  A
    classical model (`is_fitted`) is fitted once instead (`helpers.training.fit`):
    one history row, one process.
    """
    check_config(config, "config")  # every setting, before anything is written
    _, local_rank, size = torchrun_environment()
    device = pick_device(config.train.device, local_rank if size > 1 else None)
    world = join_world(device)
    try:
        run_dir = Path(run_dir) if run_dir is not None else runs_dir() / config.model.name
        return _fit(config, dataset, run_dir, device, world, verbose and world.is_main, resume)
    finally:
        world.close()


def _open_data(config: Config, world: World, verbose: bool) -> SkeletonDataset:
    """The dataset, opened first by each machine's first process (local rank 0): it may generate the
    synthetic file or build the cache, which the machine's other processes then only read."""
    first_on_machine = world.local_rank == 0
    if not first_on_machine:
        world.barrier()
    dataset = open_dataset(config.data, verbose)
    if first_on_machine:
        world.barrier()
    return dataset


def _fit(config: Config, dataset: SkeletonDataset | None, run_dir: Path, device: torch.device, world: World,
         verbose: bool, resume: bool) -> list[dict]:
    seed = config.train.run_seed()
    seed_everything(seed)
    use_deterministic_algorithms(device)
    if config.train.num_threads:
        torch.set_num_threads(config.train.num_threads)
    dataset = dataset if dataset is not None else _open_data(config, world, verbose)
    splits = config_splits(dataset, config.data)
    check_learnable(dataset, splits, warn=world.is_main)  # nothing learnable: refused before anything is written
    dataset.release_pages()  # the check read every clip; preprocessing reads each split again, once
    state = load_resume_state(run_dir, config, world.size) if resume else None
    if state is not None and json.loads((run_dir / "splits.json").read_text()) != splits.as_dict():
        raise UserInputError(f"{run_dir / 'splits.json'}: the data gives other train/val/test clips than when the "
                             "run started (has the dataset file changed?); the run cannot be resumed")
    if world.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if state is None:
            start_run(run_dir)   # first: the folder no longer counts as a finished run
            atomic_write_json(run_dir / "splits.json", splits.as_dict())
        save_config(config, run_dir / "config.yaml")

    if is_fitted(config.model.name):          # a classical model: one scikit-learn fit, no epochs
        if world.size > 1 or resume:
            raise UserInputError(f"model.name {config.model.name!r}: a classical model is fitted once, in one "
                                 "process; it cannot run under torchrun or be resumed")
        history = fit_classical(config, dataset, splits, run_dir, device, verbose)
        finish_run(run_dir, {"epochs": 1})
        return history
    streams = list(config.model.streams)
    in_channels = stream_channels(streams)
    train_clips = [dataset.clip(i) for i in splits.train]
    val_clips = [dataset.clip(i) for i in splits.val]
    if not train_clips:
        raise UserInputError(f"{dataset.source}: the training split is empty")
    train_set = ClipDataset(train_clips, dataset.layout, config.preprocess, streams, config.augment,
                            seed=seed)
    val_shard = [val_clips[i] for i in world.shard_indices(len(val_clips))]   # this rank's validation clips
    val_views = make_views(val_shard, dataset.layout, config.preprocess, streams, config.augment.test_clips,
                           config.augment.test_flip)
    val_labels = torch.tensor([clip["label"] for clip in val_clips], dtype=torch.long)
    if train_set.inputs is not None:  # preprocessed up front: training reads no clip again
        dataset.release_pages()
    generator = data_generator(seed)
    sampler = world.sampler(train_set, seed)
    per_process = len(sampler) if sampler is not None else len(train_set)
    workers = loader_workers(device, config.train.num_workers)
    # workers are started afresh each epoch (not persistent), so each gets the dataset's new epoch
    train_loader = DataLoader(train_set, batch_size=config.train.batch_size, shuffle=sampler is None, sampler=sampler,
                              generator=generator, drop_last=per_process > config.train.batch_size,
                              num_workers=workers, pin_memory=device.type == "cuda")

    kwargs = model_kwargs(config)
    model = build_model(config.model.name, dataset.num_classes, dataset.layout, in_channels, **kwargs).to(device)
    optimizer = make_optimizer(model, config.train)
    precision = pick_precision(device, config.train.amp, config.train.cpu_bf16)
    scaler = precision.grad_scaler()
    steps_per_epoch = len(train_loader)
    total_steps = steps_per_epoch * config.train.epochs
    warmup_steps = steps_per_epoch * config.train.warmup_epochs
    criterion = nn.CrossEntropyLoss(label_smoothing=config.train.label_smoothing)

    history: list[dict] = []
    val_probabilities: list[np.ndarray] = []  # one (N_val, K) array per epoch
    best_f1, best_epoch, step, done = -1.0, 0, 0, 0
    if state is not None:
        saved = state["resume"]
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(saved["optimizer"])   # moves the state to the parameters' device
        if saved["scaler"] and scaler.is_enabled():
            scaler.load_state_dict(saved["scaler"])
        history, done, step = list(saved["history"]), saved["epoch"], saved["step"]
        best_f1, best_epoch = saved["best_score"], saved["best_epoch"]
        generator.set_state(saved["data_order"])
        if val_clips and world.is_main:
            val_probabilities = load_epoch_probabilities(run_dir, done)
        restore_rng_states(saved["rng"][world.rank], device)   # last: nothing after it draws random numbers
    net = world.wrap(model)   # DistributedDataParallel under torchrun; `model` stays the unwrapped module
    if verbose:
        extras = "" if precision.dtype is None else f" ({precision.name} mixed precision)"
        if world.distributed:
            extras += (f", {world.size} processes (global batch {world.size} x {config.train.batch_size} = "
                       f"{world.size * config.train.batch_size})")
        print(f"Model {config.model.name}: {count_parameters(model):,} parameters, device {device}{extras}; "
              f"{len(train_set)} train / {len(val_clips)} val clips ({splits.protocol})")
        if state is not None:
            print(f"Resuming {run_dir} after epoch {done} of {config.train.epochs}")

    for epoch in range(done + 1, config.train.epochs + 1):
        train_set.set_epoch(epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        losses, predictions, labels = [], [], []
        data_seconds = step_seconds = 0.0
        start = tick = time.perf_counter()
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{config.train.epochs}", leave=False, disable=not verbose)
        for batch, (inputs, targets) in enumerate(bar, 1):
            fetched = time.perf_counter()
            data_seconds += fetched - tick
            for group in optimizer.param_groups:
                group["lr"] = config.train.lr * lr_factor(step, total_steps, warmup_steps, config.train.schedule)
            inputs, targets = to_device(inputs, device), to_device(targets, device)
            try:
                loss, logits = train_step(net, inputs, targets, criterion, optimizer, scaler, precision,
                                          config.train.grad_clip, world.all_finite)
            except NonFiniteLoss as error:
                raise _non_finite_error(run_dir, epoch, batch, error.value) from None
            step += 1
            losses.append(loss.item() * len(targets))
            predictions.append(logits.argmax(1).cpu())
            labels.append(targets.cpu())
            tick = time.perf_counter()
            step_seconds += tick - fetched
            bar.set_postfix(loss=f"{loss.item():.3f}")
        loss_sum, count = world.sum([sum(losses), sum(len(t) for t in labels)])
        train_labels = world.gather_equal(torch.cat(labels)).numpy()
        train_metrics = classification_metrics(train_labels, world.gather_equal(torch.cat(predictions)).numpy(),
                                               dataset.num_classes)
        row = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"], "train_loss": loss_sum / count,
               "train_acc": train_metrics["acc"], "train_f1": train_metrics["f1"]}
        if val_clips:
            world.sync_buffers(model)   # every rank validates the weights and statistics rank 0 saves
            shard = (predict_views(model, val_views, device)[0] if val_shard
                     else torch.zeros((0, dataset.num_classes)))
            probabilities = world.gather_shards(shard, len(val_clips))   # (N_val, K), the clips' order
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
        # with no validation clips, the last epoch counts as best
        score = row["val_f1"] if val_clips else float(epoch)
        improved = score > best_f1
        if improved:
            best_f1, best_epoch = score, epoch
        rng = world.gather_objects(rng_states(device))   # every rank's, for a resumed run to restore
        if world.is_main:
            metrics = {k: v for k, v in row.items() if isinstance(v, float)}
            if val_clips:
                save_epoch_probabilities(run_dir, epoch, val_probabilities[-1])
            saved = (model, config, dataset.class_names, dataset.layout, in_channels, kwargs, epoch, metrics)
            if improved:
                save_checkpoint(run_dir / "best.pt", *saved, data_source=dataset.source)
            resume_state = {"epoch": epoch, "step": step, "best_score": best_f1, "best_epoch": best_epoch,
                            "history": history, "optimizer": to_cpu(optimizer.state_dict()),
                            "scaler": scaler.state_dict(), "data_order": generator.get_state(), "rng": rng,
                            "world_size": world.size}
            save_checkpoint(run_dir / "last.pt", *saved, resume=resume_state, data_source=dataset.source)
            atomic_write_text(run_dir / "history.csv", history_csv(history))

    if world.is_main:
        if val_probabilities:  # one file at the end: read after training, never while it runs
            save_val_probabilities(run_dir, np.stack(val_probabilities), val_labels.numpy())
        finish_run(run_dir, {"epochs": len(history), "best_epoch": best_epoch, "processes": world.size})
        if verbose:
            print(f"Best epoch {best_epoch} (val macro-F1 {history[best_epoch - 1]['val_f1']:.4f}) "
                  f"saved to {run_dir / 'best.pt'}")
    world.barrier()   # the run folder is complete when train() returns on any rank
    return history


def _non_finite_error(run_dir: Path, epoch: int, batch: int, value: float) -> UserInputError:
    what = f"is {value}" if not math.isfinite(value) else "is not finite in another process"
    kept = (f"{run_dir / 'last.pt'} keeps epoch {epoch - 1}" if epoch > 1
            else "no checkpoint was written")
    return UserInputError(f"{run_dir}: the training loss {what} at epoch {epoch}, batch {batch}; training stopped "
                          f"and {kept} (lower train.lr, keep train.grad_clip on, or check the data)")
