"""Files of a run folder beside the checkpoints: validation probabilities, the history table, and whether
the run is finished.

A run folder is finished when `run.json` is there: it is written last, after every
other file, and holds the SHA-256 of the run's config (`config_hash`), so a folder
whose config.yaml was rewritten by a later run that never finished is not taken
for a finished run.  A run that starts removes `run.json` first.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np

from helpers.config import Config, load_config
from helpers.errors import UserInputError
from helpers.io import atomic_write, atomic_write_json

FINISHED_FILE = "run.json"
PROBABILITIES_FILE = "val_probabilities.npz"
PARTS_FOLDER = "val_probabilities.parts"   # one (N, K) .npy per epoch while the run goes on


def config_hash(config: Config) -> str:
    """SHA-256 of the config's fields (sorted JSON): equal exactly when every setting is equal."""
    text = json.dumps(config.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def start_run(run_dir: Path) -> None:
    """Mark `run_dir` unfinished and drop an earlier run's validation scores, before anything else is written."""
    (run_dir / FINISHED_FILE).unlink(missing_ok=True)
    (run_dir / PROBABILITIES_FILE).unlink(missing_ok=True)
    shutil.rmtree(run_dir / PARTS_FOLDER, ignore_errors=True)


def finish_run(run_dir: Path, summary: dict) -> Path:
    """Write `run.json`, the last file of a finished run: the hash of the config.yaml beside it, and `summary`."""
    digest = config_hash(load_config(run_dir / "config.yaml"))
    return atomic_write_json(run_dir / FINISHED_FILE, {"finished": True, "config_sha256": digest, **summary})


def finished_config(run_dir: str | Path) -> Config | None:
    """The config of the finished run in `run_dir`, or None when the folder holds no finished run
    (no run.json, or a config.yaml that is not the one run.json was written for)."""
    run_dir = Path(run_dir)
    marker, config_path = run_dir / FINISHED_FILE, run_dir / "config.yaml"
    if not marker.is_file() or not config_path.is_file():
        return None
    try:
        recorded = json.loads(marker.read_text()).get("config_sha256")
    except (json.JSONDecodeError, AttributeError):
        return None
    config = load_config(config_path)
    return config if recorded == config_hash(config) else None


def require_finished(run_dir: str | Path) -> Config:
    """The config of the finished run in `run_dir`; a UserInputError when the run is not finished."""
    config = finished_config(run_dir)
    if config is None:
        raise UserInputError(f"{run_dir}: not a finished run ({FINISHED_FILE} missing or not matching "
                             "config.yaml); train it again, or continue it with --resume")
    return config


def save_epoch_probabilities(run_dir: Path, epoch: int, probabilities: np.ndarray) -> None:
    """Keep one epoch's validation probabilities (N, K) while the run goes on (read back by a resumed run)."""
    atomic_write(run_dir / PARTS_FOLDER / f"epoch_{epoch:04d}.npy", lambda file: np.save(file, probabilities))


def load_epoch_probabilities(run_dir: Path, epochs: int) -> list[np.ndarray]:
    """The (N, K) validation probabilities of epochs 1..`epochs` that `save_epoch_probabilities` kept."""
    arrays = []
    for epoch in range(1, epochs + 1):
        path = run_dir / PARTS_FOLDER / f"epoch_{epoch:04d}.npy"
        if not path.is_file():
            raise UserInputError(f"{path}: missing; the run cannot be resumed without every epoch's validation "
                                 "probabilities")
        arrays.append(np.load(path, allow_pickle=False))
    return arrays


def save_val_probabilities(run_dir: Path, probabilities: np.ndarray, labels: np.ndarray) -> None:
    """Write per-epoch validation probabilities (E, N, K) and labels (N,) atomically; drop the per-epoch parts."""
    atomic_write(run_dir / PROBABILITIES_FILE,
                 lambda file: np.savez(file, probabilities=probabilities, labels=labels))
    shutil.rmtree(run_dir / PARTS_FOLDER, ignore_errors=True)


def load_val_probabilities(run_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-epoch validation class probabilities (E, N, K) and labels (N,) that `train` saved in `run_dir`."""
    path = Path(run_dir) / PROBABILITIES_FILE
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
