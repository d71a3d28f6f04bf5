"""The report's two LSTMs: BaselineLSTM and ImprovedLSTM (BatchNorm1d + dropout before the head).

Every model takes a batch shaped (N, C, T, V, M) — channels, frames, joints,
persons, as ST-GCN — and returns logits (N, num_classes).
"""
from __future__ import annotations

import torch
from torch import nn

from helpers.data.layouts import Layout


class BaselineLSTM(nn.Module):
    """LSTM over frames of flattened joints of the main person, last hidden state, linear head.

    Input (N, C, T, V, M); person 0 is used, each frame flattened to V*C features.
    Output logits (N, num_classes).
    """

    def __init__(self, num_classes: int, layout: Layout, in_channels: int = 2,
                 hidden_size: int = 128, num_layers: int = 2):
        super().__init__()
        self.lstm = nn.LSTM(layout.num_joints * in_channels, hidden_size, num_layers, batch_first=True)
        self.head = self._make_head(hidden_size, num_classes)

    def _make_head(self, hidden_size: int, num_classes: int) -> nn.Module:
        return nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v, _ = x.shape
        frames = x[..., 0].permute(0, 2, 3, 1).reshape(n, t, v * c)   # (N, T, V*C)
        _, (hidden, _) = self.lstm(frames)                              # hidden: (layers, N, H)
        return self.head(hidden[-1])                                    # (N, classes)


class ImprovedLSTM(BaselineLSTM):
    """BaselineLSTM plus BatchNorm1d and dropout (0.4 in the report) before the linear head.

    Input (N, C, T, V, M), output logits (N, num_classes).
    """

    def __init__(self, num_classes: int, layout: Layout, in_channels: int = 2,
                 hidden_size: int = 128, num_layers: int = 2, dropout: float = 0.4):
        self.dropout = dropout
        super().__init__(num_classes, layout, in_channels, hidden_size, num_layers)

    def _make_head(self, hidden_size: int, num_classes: int) -> nn.Module:
        return nn.Sequential(nn.BatchNorm1d(hidden_size), nn.Dropout(self.dropout), nn.Linear(hidden_size, num_classes))
