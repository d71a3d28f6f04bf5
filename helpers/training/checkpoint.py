"""Checkpoints: everything needed to predict, stored as plain types and CPU tensors.

Loaded with `torch.load(weights_only=True)`, so a checkpoint cannot run code.
Tensors are saved on the CPU, so a checkpoint trained on a GPU loads on a machine
without one (and is moved to a GPU with `.to(device)`).  `last.pt` also holds a
`resume` entry, the training state that `helpers.training.resume` continues from.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from helpers.config import Config, config_from_dict
from helpers.errors import UserInputError
from helpers.io import atomic_write
from helpers.data.layouts import Layout, check_data_fits, get_layout
from helpers.models.registry import build_model
from helpers.config import PreprocessConfig

FORMAT_VERSION = 1


def save_checkpoint(path: str | os.PathLike, model: nn.Module, config: Config, class_names: list[str],
                    layout: Layout, in_channels: int, model_kwargs: dict, epoch: int, metrics: dict,
                    resume: dict | None = None, data_source: str | None = None) -> Path:
    """Write the checkpoint of `model` (unwrapped from DistributedDataParallel) atomically;
    `resume`: the training state to continue from (plain types and CPU tensors); `data_source`: the
    dataset it was trained on (a file path)."""
    state = {
        "format_version": FORMAT_VERSION,
        "model_name": config.model.name,
        "model_kwargs": model_kwargs,
        "in_channels": in_channels,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "class_names": list(class_names),
        "layout": layout.name,
        "num_joints": layout.num_joints,
        "config": config.to_dict(),
        "epoch": epoch,
        "metrics": {k: float(v) for k, v in metrics.items()},
        "data_source": None if data_source is None else str(data_source),
    }
    if resume is not None:
        state["resume"] = resume
    return atomic_write(path, lambda file: torch.save(state, file))


class LoadedCheckpoint:
    """A model ready for inference plus the settings it was trained with."""

    def __init__(self, state: dict, path: Path):
        self.path = path
        self.state = state
        self.config: Config = config_from_dict(state["config"], f"{path} (config)")
        self.class_names: list[str] = list(state["class_names"])
        self.layout: Layout = get_layout(state["layout"])
        self.preprocess: PreprocessConfig = self.config.preprocess
        self.streams: list[str] = list(self.config.model.streams)
        self.model = build_model(state["model_name"], len(self.class_names), self.layout,
                                 state["in_channels"], **state["model_kwargs"])
        try:
            self.model.load_state_dict(state["state_dict"])
        except (RuntimeError, UserInputError) as error:   # weights of another shape or model, malformed arrays
            raise UserInputError(f"{path}: its weights do not fit model {state['model_name']!r} "
                                 f"({str(error).splitlines()[0]})") from None
        self.model.eval()

    @property
    def model_name(self) -> str:
        return self.state["model_name"]

    def check_fits(self, source: str, num_joints: int, layout_name: str | None = None) -> None:
        """Refuse data whose skeleton (joint count, layout if known) differs from the training data's."""
        check_data_fits(self.layout, source, num_joints, layout_name, f"checkpoint {self.path}")


def load_checkpoint(path: str | os.PathLike, map_location: str = "cpu") -> LoadedCheckpoint:
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or unsafe files
        raise UserInputError(f"{path}: not a loadable checkpoint ({type(error).__name__}: "
                             f"{str(error).splitlines()[0] if str(error) else ''})") from None
    required = ("format_version", "model_name", "model_kwargs", "in_channels", "state_dict", "class_names",
                "layout", "config")
    if not isinstance(state, dict) or any(key not in state for key in required):
        missing = [k for k in required if not isinstance(state, dict) or k not in state]
        raise UserInputError(f"{path}: not a skeleton-actions checkpoint (missing {', '.join(missing)})")
    return LoadedCheckpoint(state, path)
