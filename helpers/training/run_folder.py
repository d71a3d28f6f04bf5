"""Files of a run folder beside the checkpoints: per-epoch validation probabilities and the history table."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from helpers.errors import UserInputError
from helpers.io import atomic_write


def save_val_probabilities(path: Path, probabilities: np.ndarray, labels: np.ndarray) -> None:
    """Write per-epoch validation probabilities (E, N, K) and labels (N,) atomically."""
    atomic_write(path, lambda file: np.savez(file, probabilities=probabilities, labels=labels))


def load_val_probabilities(run_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-epoch validation class probabilities (E, N, K) and labels (N,) that `train` saved in `run_dir`."""
    path = Path(run_dir) / "val_probabilities.npz"
    if not path.is_file():
        raise UserInputError(f"{path}: not found; it is written by training runs with validation clips")
    with np.load(path, allow_pickle=False) as data:
        return data["probabilities"], data["labels"]


def history_csv(history: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()
