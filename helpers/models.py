"""The report's two LSTMs and the table of all model classes.

Every model takes a batch shaped (N, C, T, V, M) — channels, frames, joints,
persons, as ST-GCN — and returns logits (N, num_classes).
"""
from __future__ import annotations

import torch
from torch import nn

from helpers.errors import UserInputError
from helpers.layouts import Layout


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


def _model_table() -> dict[str, type[nn.Module]]:
    table: dict[str, type[nn.Module]] = {"baseline": BaselineLSTM, "improved": ImprovedLSTM}
    try:
        from helpers.stgcn import STGCN
    except ImportError:
        return table
    table["stgcn"] = STGCN
    from helpers.ddnet import DDNet
    table["ddnet"] = DDNet
    return table


MODELS = _model_table()


def model_kwargs(config) -> dict:
    """Keyword arguments of the model class named in `config.model` (beyond classes, layout, channels)."""
    model = config.model
    if model.name in ("baseline", "improved"):
        kwargs = {"hidden_size": model.hidden_size, "num_layers": model.num_layers}
        if model.name == "improved":
            kwargs["dropout"] = model.dropout
    elif model.name == "ddnet":               # one person, no graph
        kwargs = {"dropout": model.dropout}
    else:
        kwargs = {"dropout": model.dropout, "max_persons": config.preprocess.max_persons}
    return {**kwargs, **model.extra}


def build_model(name: str, num_classes: int, layout: Layout, in_channels: int, **kwargs) -> nn.Module:
    if name not in MODELS:
        raise UserInputError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name](num_classes=num_classes, layout=layout, in_channels=in_channels, **kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
