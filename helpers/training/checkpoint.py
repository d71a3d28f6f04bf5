"""Checkpoints: everything needed to predict, stored as plain types and CPU tensors.

Loaded with `torch.load(weights_only=True)`, so a checkpoint cannot run code.
Tensors are saved on the CPU, so a checkpoint trained on a GPU loads on a machine
without one (and is moved to a GPU with `.to(device)`).  `last.pt` also holds a
`resume` entry, the training state that `helpers.training.resume` continues from.

A checkpoint that loads is still only data from a file: before any model is
allocated, its fields are checked (types, the layout, the config's settings)
and the model its settings describe is built on torch's "meta" device (shapes,
no memory) and compared with the stored weights, so settings that disagree with
the weights, or ask for a model far larger than the file (`hidden_size: 60000`),
are refused with one line naming the file and the field.
"""
from __future__ import annotations

import contextlib
import math
import os
import pickle
import re
import zipfile
from pathlib import Path

import torch
from torch import nn
from torch.nn.modules.module import register_module_buffer_registration_hook, register_module_parameter_registration_hook

from helpers.config import Config, PreprocessConfig, config_from_dict
from helpers.config_rules import BadValue, ModelExtra, check_model_extra
from helpers.data.layouts import Layout, check_data_fits, get_layout
from helpers.errors import UserInputError, printable, quote
from helpers.io import atomic_write
from helpers.models.registry import MODELS, build_model
from helpers.transforms.clips import stream_channels

FORMAT_VERSION = 1
_REQUIRED = ("format_version", "model_name", "model_kwargs", "in_channels", "state_dict", "class_names",
             "layout", "config")


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
    """A model ready for inference plus the settings it was trained with (build with `load_checkpoint`)."""

    def __init__(self, state: dict, path: Path):
        self.path = path
        self.state = state
        self.config: Config = config_from_dict(state["config"], f"{path} (config)", here=False)
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
        self._probe()

    def _probe(self) -> None:
        """Run the model once on zeros of its input shape (N=1, C, T, V, M), so that settings under which it
        builds but cannot run are refused here, in one line, rather than in the middle of a prediction."""
        shape = (1, self.state["in_channels"], self.preprocess.length, self.layout.num_joints,
                 self.preprocess.max_persons)
        if math.prod(shape) > 4_000_000:
            return  # too big to try cheaply; the settings' bounds (helpers.config) still hold
        try:
            with torch.no_grad():
                self.model(torch.zeros(shape))
        except (RuntimeError, TypeError, ValueError, IndexError) as error:
            raise UserInputError(f"{self.path}: its model does not run on input {shape} (N, C, T, V, M) with its "
                                 f"settings ({printable(str(error).splitlines()[0])[:160]})") from None

    @property
    def model_name(self) -> str:
        return self.state["model_name"]

    def check_fits(self, source: str, num_joints: int, layout_name: str | None = None) -> None:
        """Refuse data whose skeleton (joint count, layout if known) differs from the training data's."""
        check_data_fits(self.layout, source, num_joints, layout_name, f"checkpoint {self.path}")


def _torch_reason(error: Exception) -> str:
    """What torch's message says was wrong, without its advice on how to load the file anyway."""
    text = str(error)
    refused = re.search(r"GLOBAL\s+(\S+)", text)
    if refused:
        return f"it references {quote(refused.group(1).rstrip('.,'))}, which is not a tensor or plain data"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if "weights_only" not in line and "trust" not in line
              and not line.startswith(("Check the documentation", "(1)", "(2)", "Please"))]
    reason = printable(useful[0].split(". Please")[0] if useful else type(error).__name__)
    return reason if len(reason) <= 160 else reason[:157] + "..."


def _read_state(path: Path, map_location: str):
    """torch.load(weights_only=True) of a zip-format checkpoint whose members are stored uncompressed."""
    try:
        with open(path, "rb") as file:
            magic = file.read(4)
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        magic, members = None, None
    if magic != b"PK\x03\x04" or members is None:  # torch reads any other start as a legacy (raw pickle) file
        raise UserInputError(f"{path}: not a checkpoint (not a zip-format torch file)")
    if any(m.compress_type != zipfile.ZIP_STORED for m in members) or \
            sum(m.file_size for m in members) > path.stat().st_size:
        raise UserInputError(f"{path}: not a checkpoint of this project (compressed members)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise UserInputError(f"{path}: refused to load checkpoint: {_torch_reason(error)}; only tensors and plain "
                             "data are loaded, never code") from None
    except Exception as error:  # torch raises several types for corrupt files
        raise UserInputError(f"{path}: not a loadable checkpoint ({type(error).__name__}: "
                             f"{_torch_reason(error)})") from None


def _check_state(state, path: Path) -> None:
    """Refuse a loaded checkpoint whose fields are missing, of the wrong type, or disagree with each other."""
    if not isinstance(state, dict) or any(key not in state for key in _REQUIRED):
        missing = [k for k in _REQUIRED if not isinstance(state, dict) or k not in state]
        raise UserInputError(f"{path}: not a skeleton-actions checkpoint (missing {', '.join(missing)})")

    def bad(field: str, problem: str):
        raise UserInputError(f"{path}: field {field!r}: {problem}")

    if type(state["format_version"]) is not int or state["format_version"] != FORMAT_VERSION:
        bad("format_version", f"{quote(state['format_version'])}; this code reads version {FORMAT_VERSION}")
    name = state["model_name"]
    if type(name) is not str or name not in MODELS:
        bad("model_name", f"unknown model {quote(name)} (known: {', '.join(MODELS)})")
    names = state["class_names"]
    if type(names) is not list or not names or not all(type(n) is str and n for n in names) \
            or len(set(names)) != len(names):
        bad("class_names", "expected a list of distinct, non-empty strings")
    try:
        layout = get_layout(state["layout"]) if type(state["layout"]) is str else None
    except ValueError:
        layout = None
    if layout is None:
        bad("layout", f"unknown layout {quote(state['layout'])}")
    if "num_joints" in state and (type(state["num_joints"]) is not int or state["num_joints"] != layout.num_joints):
        bad("num_joints", f"{quote(state['num_joints'])}, but layout {layout.name} has {layout.num_joints} joints")
    channels = state["in_channels"]
    if type(channels) is not int or not 1 <= channels <= 64:
        bad("in_channels", f"expected an integer in [1, 64], got {quote(channels)}")
    kwargs = state["model_kwargs"]
    try:
        ModelExtra().check(kwargs)
        check_model_extra(name, kwargs)
    except BadValue as error:
        bad("model_kwargs", str(error))
    weights = state["state_dict"]
    if type(weights) is not dict or not all(type(k) is str and isinstance(v, torch.Tensor)
                                            for k, v in weights.items()):
        bad("state_dict", "expected a mapping of parameter names to tensors")
    if type(state["config"]) is not dict:
        bad("config", f"expected a mapping, got {type(state['config']).__name__}")
    config = config_from_dict(state["config"], f"{path} (config)", here=False)
    if config.model.name != name:
        bad("config", f"model.name is {config.model.name!r} but the weights are of model {name!r}")
    if stream_channels(config.model.streams) != channels:
        bad("config", f"model.streams {config.model.streams} make {stream_channels(config.model.streams)} input "
                      f"channels, the weights take {channels}")
    if "max_persons" in kwargs and kwargs["max_persons"] != config.preprocess.max_persons:
        bad("model_kwargs", f"max_persons {quote(kwargs['max_persons'])} differs from the config's "
                            f"preprocess.max_persons {config.preprocess.max_persons}")
    _check_weights_fit(path, name, len(names), layout, channels, kwargs, weights)


class _TooManyTensors(Exception):
    """A model being built registers more tensors than the checkpoint holds."""


@contextlib.contextmanager
def _tensor_limit(limit: int):
    """Raise _TooManyTensors as soon as modules built in the block register more than `limit` parameters
    and buffers: settings such as `num_layers: 70000` make a model that takes minutes to build even
    on the meta device, and could never match the file's weights anyway."""
    count = 0

    def hook(module, name, value):
        nonlocal count
        count += 1
        if count > limit:
            raise _TooManyTensors

    handles = [register_module_parameter_registration_hook(hook), register_module_buffer_registration_hook(hook)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _check_weights_fit(path: Path, name: str, num_classes: int, layout: Layout, in_channels: int,
                       kwargs: dict, weights: dict) -> None:
    """Build the model on the meta device (shapes only, no memory) and compare with the stored weights."""
    try:
        with torch.device("meta"), _tensor_limit(2 * len(weights) + 16):  # a little slack: buffers not saved
            model = build_model(name, num_classes, layout, in_channels, **kwargs)
    except UserInputError as error:
        raise UserInputError(f"{path}: field 'model_kwargs': {str(error)}") from None
    except _TooManyTensors:
        raise UserInputError(f"{path}: its weights do not match its settings ({name}, model_kwargs {quote(kwargs)}): "
                             f"they make a model of more than {2 * len(weights) + 16} tensors, the file holds "
                             f"{len(weights)}") from None
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    given = {key: tuple(value.shape) for key, value in weights.items()}
    missing, unexpected = sorted(expected.keys() - given.keys()), sorted(given.keys() - expected.keys())
    if missing or unexpected:
        raise UserInputError(f"{path}: its weights do not match its settings ({name}, model_kwargs {quote(kwargs)}):"
                             f" {len(missing)} missing, e.g. {quote(missing[:1])}; {len(unexpected)} unexpected, "
                             f"e.g. {quote(unexpected[:1])}")
    for key, shape in expected.items():
        # an empty tensor is sized by the file (the classical model's fitted arrays), which its own loader checks
        if given[key] != shape and math.prod(shape) > 0:
            raise UserInputError(f"{path}: its weights do not match its settings ({name}, model_kwargs "
                                 f"{quote(kwargs)}): {key!r} is {given[key]} in the file, the settings make {shape}")


def load_checkpoint(path: str | os.PathLike, map_location: str = "cpu") -> LoadedCheckpoint:
    """The checkpoint at `path`, checked (module docstring) before its model is built."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: checkpoint not found")
    state = _read_state(path, map_location)
    _check_state(state, path)
    return LoadedCheckpoint(state, path)
