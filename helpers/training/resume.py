"""Continuing an interrupted run from its `last.pt`.

At the end of every epoch the loop writes `last.pt` with, beside the model, a
`resume` entry: optimizer and gradient-scaler state, the epoch and optimisation
step reached, the best score so far and its epoch, the history, the state of the
data-order generator, and every rank's python/numpy/torch RNG states.  A resumed
run restores all of it and runs the remaining epochs as the uninterrupted run
would have (bit for bit on CPU with one thread).
"""
from __future__ import annotations

from pathlib import Path

import torch

from helpers.config import Config
from helpers.errors import UserInputError
from helpers.training.run_folder import FINISHED_FILE

# Settings that change where and how fast a run goes, not what it learns: a resumed run may change them.
MAY_DIFFER = {"train.device", "train.num_threads", "train.num_workers", "train.test_checkpoint"}


def flatten(values: dict, prefix: str = "") -> dict:
    """{'train': {'lr': 0.1}} -> {'train.lr': 0.1}."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and key != "extra":   # model.extra is one field: the model's own arguments
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_differences(saved: dict, current: dict) -> list[str]:
    """'field: saved -> current' for every setting (outside MAY_DIFFER) where two config dicts differ."""
    old, new = flatten(saved), flatten(current)
    return [f"{key}: {old.get(key)!r} -> {new.get(key)!r}" for key in sorted(set(old) | set(new))
            if key not in MAY_DIFFER and old.get(key) != new.get(key)]


def to_cpu(value):
    """`value` with every tensor moved to the CPU (optimizer state of a GPU run), so that it loads anywhere."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: to_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(item) for item in value)
    return value


def load_resume_state(run_dir: Path, config: Config, world_size: int) -> dict:
    """The `last.pt` state of the interrupted run in `run_dir`, after checking that it can be continued
    with `config` on `world_size` processes; a UserInputError naming what stands in the way otherwise."""
    path = run_dir / "last.pt"
    if (run_dir / FINISHED_FILE).is_file():
        raise UserInputError(f"{run_dir}: the run is finished ({FINISHED_FILE} is there); nothing to resume")
    if not path.is_file():
        raise UserInputError(f"{path}: not found; nothing to resume (the run stopped before its first epoch "
                             "ended: start it again without --resume)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or unsafe files
        raise UserInputError(f"{path}: not a loadable checkpoint ({type(error).__name__})") from None
    if not isinstance(state, dict) or "resume" not in state or "config" not in state:
        raise UserInputError(f"{path}: holds no training state to resume from")
    differences = config_differences(state["config"], config.to_dict())
    if differences:
        raise UserInputError(f"{path}: the config differs from the interrupted run's ({'; '.join(differences)}); "
                             f"resume with the run's own settings (they are in {run_dir / 'config.yaml'})")
    saved_size = state["resume"]["world_size"]
    if saved_size != world_size:
        raise UserInputError(f"{path}: the run was trained by {saved_size} process(es) and this resume has "
                             f"{world_size}; the batches (and so the training) would differ: resume with "
                             f"{saved_size} (torchrun --nproc_per_node)")
    return state
