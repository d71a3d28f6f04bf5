"""The table of model families and the one way to build a model from a config.

Every model takes a batch shaped (N, C, T, V, M) — channels, frames, joints,
persons, as ST-GCN — and returns logits (N, num_classes).  Neural models are
trained by gradient steps; the classical model is fitted once (`is_fitted`).
"""
from __future__ import annotations

from torch import nn

from helpers.data.layouts import Layout
from helpers.errors import UserInputError, printable, quote
from helpers.models.classical import ClassicalModel
from helpers.models.ddnet import DDNet
from helpers.models.lstm import BaselineLSTM, ImprovedLSTM
from helpers.models.stgcn import STGCN

MODELS: dict[str, type[nn.Module]] = {"baseline": BaselineLSTM, "improved": ImprovedLSTM, "stgcn": STGCN, "ddnet": DDNet,
                                      "classical": ClassicalModel}


def is_fitted(name: str) -> bool:
    """Whether model `name` is fitted once by scikit-learn (helpers.training.fit) instead of trained in epochs."""
    return name in MODELS and issubclass(MODELS[name], ClassicalModel)


def model_kwargs(config) -> dict:
    """Keyword arguments of the model class named in `config.model` (beyond classes, layout, channels)."""
    model = config.model
    if model.name in ("baseline", "improved"):
        kwargs = {"hidden_size": model.hidden_size, "num_layers": model.num_layers}
        if model.name == "improved":
            kwargs["dropout"] = model.dropout
    elif model.name == "ddnet":               # one person, no graph
        kwargs = {"dropout": model.dropout}
    elif is_fitted(model.name):               # everything in model.extra (estimator and its settings)
        kwargs = {}
    else:
        kwargs = {"dropout": model.dropout, "max_persons": config.preprocess.max_persons}
    return {**kwargs, **model.extra}


def build_model(name: str, num_classes: int, layout: Layout, in_channels: int, **kwargs) -> nn.Module:
    """The model `name`; settings it does not take, or values it refuses, are a UserInputError."""
    if name not in MODELS:
        raise UserInputError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    try:
        return MODELS[name](num_classes=num_classes, layout=layout, in_channels=in_channels, **kwargs)
    except (TypeError, ValueError, RuntimeError) as error:  # a setting of the wrong type, or one the model refuses
        if isinstance(error, UserInputError):
            raise
        raise UserInputError(f"model {name} with settings {quote(kwargs)}: {printable(str(error))[:200]}") from None


def count_parameters(model: nn.Module) -> int:
    """Trainable weights; for a classical model the numbers its fitted estimator stores."""
    if isinstance(model, ClassicalModel):
        return model.stored_values()
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
