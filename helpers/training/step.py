"""One optimisation step, the optimizer and the learning-rate schedule: what the loop and the speed benchmark share."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from helpers.errors import UserInputError
from helpers.training.device import Precision


class NonFiniteLoss(ArithmeticError):
    """A training batch gave a NaN or infinite loss (the loop turns it into a UserInputError naming the batch)."""

    def __init__(self, value: float):
        super().__init__(f"the training loss is {value}")
        self.value = value


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


def train_step(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, criterion: nn.Module,
               optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler, precision: Precision,
               grad_clip: float = 0.0,
               all_finite: Callable[[torch.Tensor], bool] = lambda loss: bool(torch.isfinite(loss))
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward, backward and update on one batch already on the model's device.

    inputs (N, C, T, V, M), targets (N,).  The forward pass runs at `precision`; the
    gradient is clipped to norm `grad_clip` (0 = off) after unscaling.  A loss that
    `all_finite` rejects (under DistributedDataParallel: on any rank) raises
    NonFiniteLoss before the weights change.  Returns the loss (scalar) and logits (N, K), detached.
    """
    with precision.autocast():
        logits = model(inputs)
        loss = criterion(logits, targets)
    if not all_finite(loss):
        raise NonFiniteLoss(float(loss.detach()))
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    return loss.detach(), logits.detach()
