"""Where things live: every path the project uses is derived here, never from the working directory.

Settings (environment variables):
- SKELETON_ACTIONS_DATA: the data folder (default: `<project>/data`).
- SKELETON_ACTIONS_RUNS: the runs folder (default: `<project>/runs`).
- SKELETON_ACTIONS_SHARED_DATA: the folder of real sample data used by tests and
  benchmarks (default: `<project>/../shared/data`).
- SKELETON_ACTIONS_CACHE: the folder of dataset caches (default: `<data folder>/.cache`).
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIGS_DIR = PROJECT_ROOT / "configs"                 # one YAML file per dataset: data and preprocess blocks
RECIPES_DIR = CONFIGS_DIR / "recipes"                  # training recipes: what differs from the defaults
DEFAULT_DATASET_CONFIG = CONFIGS_DIR / "synthetic.yaml"  # the built-in synthetic dataset


def data_dir() -> Path:
    return Path(os.environ.get("SKELETON_ACTIONS_DATA", PROJECT_ROOT / "data"))


def runs_dir() -> Path:
    return Path(os.environ.get("SKELETON_ACTIONS_RUNS", PROJECT_ROOT / "runs"))


def cache_dir() -> Path:
    """Where helpers.data.cache keeps its memory-mappable copies of dataset pickles."""
    return Path(os.environ.get("SKELETON_ACTIONS_CACHE", data_dir() / ".cache"))


def shared_data_dir() -> Path:
    return Path(os.environ.get("SKELETON_ACTIONS_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


def resolve_data_path(path: str | os.PathLike) -> Path:
    """A dataset path from a config: absolute as given, relative ones from the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def synthetic_dataset_path() -> Path:
    """Where the built-in synthetic default dataset is generated (once) and reused."""
    return data_dir() / "synthetic_default.pkl"
