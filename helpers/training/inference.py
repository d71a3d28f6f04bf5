"""Inference: logits of a loader, and class probabilities averaged over test views (in float32)."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from helpers.training.device import to_device
from helpers.transforms.clips import ClipDataset
from helpers.transforms.inputs import evaluation_views


@torch.no_grad()
def predict_logits(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, K) and labels (N,) of every batch of `loader`."""
    model.eval()
    outputs, labels = [], []
    for inputs, targets in loader:
        outputs.append(model(to_device(inputs, device)).float().cpu())
        labels.append(targets)
    return torch.cat(outputs), torch.cat(labels)


def predict_views(model: nn.Module, views: list[ClipDataset], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Class probabilities (N, K) averaged over views (sampled copies) of the same clips, and labels (N,)."""
    total, labels = None, None
    for view in views:
        loader = DataLoader(view, batch_size=256, pin_memory=device.type == "cuda")
        logits, labels = predict_logits(model, loader, device)
        probabilities = torch.softmax(logits, dim=1)
        total = probabilities if total is None else total + probabilities
    return total / len(views), labels


def make_views(clips: list[dict], layout, preprocess, streams: list[str], num_views: int,
               flip: bool = False) -> list[ClipDataset]:
    """`num_views` deterministic, differently sampled copies of `clips` for multi-clip testing,
    each also mirrored (left/right swapped) when `flip`: 2 * num_views views then."""
    return [ClipDataset(clips, layout, preprocess, streams, view=k, num_views=n, mirror=mirror)
            for k, n, mirror in evaluation_views(num_views, flip)]
