"""A DD-Net style classifier (Yang et al. 2019, "Make Skeleton-based Action Recognition Model Smaller,
Faster and Better") for any skeleton layout.

DD-Net reads no graph: from the joint coordinates of each frame it derives
  - joint collection distances (JCD): the V(V-1)/2 distances between all joint pairs, divided by
    their mean over the clip (so scale-free) and centred at 0;
  - slow motion: frame-to-frame differences of the coordinates;
  - fast motion: the same on every second frame (half the frames).
Each goes through a small 1-D convolution branch over time; the branches are joined
and pooled twice more, max-pooled over time and classified by two dense layers.
`filters` sets the width: 64 is the paper's JHMDB model (about 1.8 M parameters),
16 a small one.

Shapes: N batch, C channels (2: x, y), T frames, V joints, M persons, F filters.
The model uses person 0 (the main person; JHMDB has one) and the first two channels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers.data.layouts import Layout
from helpers.data.geometry import joint_pair_distances


def conv1d(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    """Convolution over time + batch norm + leaky ReLU: (N, C_in, T) -> (N, C_out, T)."""
    return nn.Sequential(
        nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm1d(out_channels),
        nn.LeakyReLU(0.2),
    )


def feature_branch(in_channels: int, filters: int, pool: bool, dropout: float) -> nn.Sequential:
    """One input's branch: (N, in_channels, T) -> (N, F, T/2 if pool else T)."""
    layers = [conv1d(in_channels, 2 * filters, 1), nn.Dropout1d(dropout),
              conv1d(2 * filters, filters, 3), nn.Dropout1d(dropout),
              conv1d(filters, filters, 1)]
    if pool:
        layers.append(nn.MaxPool1d(2, ceil_mode=True))
    layers.append(nn.Dropout1d(dropout))
    return nn.Sequential(*layers)


def temporal_stage(in_channels: int, out_channels: int, pool: bool, dropout: float) -> nn.Sequential:
    """Two kernel-3 convolutions, then (optionally) halving T: (N, C_in, T) -> (N, C_out, T')."""
    layers = [conv1d(in_channels, out_channels, 3), conv1d(out_channels, out_channels, 3)]
    if pool:
        layers.append(nn.MaxPool1d(2, ceil_mode=True))
    layers.append(nn.Dropout1d(dropout))
    return nn.Sequential(*layers)


def joint_collection_distances(coords: torch.Tensor) -> torch.Tensor:
    """(N, T, V, 2) -> (N, V(V-1)/2, T): distances of all joint pairs (i < j), divided by their
    clip mean, minus 1."""
    distances = joint_pair_distances(coords, eps=1e-8)               # (N, T, P)
    scale = distances.mean(dim=(1, 2), keepdim=True)                 # (N, 1, 1)
    return (distances / scale - 1.0).transpose(1, 2)                 # (N, P, T)


def frame_differences(coords: torch.Tensor, step: int) -> torch.Tensor:
    """(N, T, V, 2) -> (N, V*2, T // step): differences of every `step`-th frame to the next kept
    one; the last is 0."""
    n, t, v, c = coords.shape
    kept = coords[:, : step * (t // step): step]                   # (N, T', V, 2)
    diff = F.pad(kept[:, 1:] - kept[:, :-1], (0, 0, 0, 0, 0, 1))      # (N, T', V, 2)
    return diff.reshape(n, -1, v * c).transpose(1, 2)                # (N, V*2, T')


class DDNet(nn.Module):
    """DD-Net style classifier for any `Layout`.

    forward: x (N, C, T, V, M) -> logits (N, num_classes); channels 0-1 of person 0
    must be the joint coordinates (model.streams: [joint]); T >= 2.

    Args:
        num_classes: number of action classes.
        layout: skeleton layout; it fixes V.
        in_channels: C of the input (2 for the joint stream).
        filters: F, the width (16 small, 64 the paper's JHMDB model).
        dropout: dropout between the dense layers of the head (0.5 in the paper).
        feature_dropout: channel dropout in the convolution branches (0.1 in the paper).
        hidden: width of the two dense layers.
    """

    def __init__(self, num_classes: int, layout: Layout, in_channels: int = 2, filters: int = 16,
                 dropout: float = 0.5, feature_dropout: float = 0.1, hidden: int = 128):
        super().__init__()
        if in_channels != 2:
            raise ValueError(f"DD-Net derives its own features from joint coordinates: in_channels must be 2 "
                             f"(model.streams: [joint]), got {in_channels}")
        v = layout.num_joints
        self.distances = feature_branch(v * (v - 1) // 2, filters, pool=True, dropout=feature_dropout)
        self.slow_motion = feature_branch(2 * v, filters, pool=True, dropout=feature_dropout)
        self.fast_motion = feature_branch(2 * v, filters, pool=False, dropout=feature_dropout)
        self.stages = nn.Sequential(
            temporal_stage(3 * filters, 2 * filters, pool=True, dropout=feature_dropout),
            temporal_stage(2 * filters, 4 * filters, pool=True, dropout=feature_dropout),
            temporal_stage(4 * filters, 8 * filters, pool=False, dropout=feature_dropout),
        )
        self.head = nn.Sequential(
            nn.Linear(8 * filters, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coords = x[:, :2, :, :, 0].permute(0, 2, 3, 1)                # (N, T, V, 2), person 0
        half = coords.shape[1] // 2
        features = torch.cat([
            self.distances(joint_collection_distances(coords))[..., :half],   # (N, F, T/2)
            self.slow_motion(frame_differences(coords, 1))[..., :half],       # (N, F, T/2)
            self.fast_motion(frame_differences(coords, 2)),                    # (N, F, T/2)
        ], dim=1)                                                              # (N, 3F, T/2)
        features = self.stages(features)                                      # (N, 8F, T/8)
        return self.head(features.amax(dim=-1))                               # (N, num_classes)
