"""Which dataset a run uses: the configured file, or the built-in synthetic default."""
from __future__ import annotations

import hashlib
from pathlib import Path

from helpers.config import DataConfig
from helpers.data import synthetic
from helpers.data.cache import open_cached_dataset
from helpers.data.dataset import SkeletonDataset, load_dataset, save_dataset, select_classes
from helpers.errors import UserInputError, printable
from helpers.paths import resolve_data_path, synthetic_dataset_path


def is_default_dataset(source: str | Path) -> bool:
    """Whether `source` is (a version of) the built-in synthetic dataset file."""
    base, path = synthetic_dataset_path(), Path(source)
    return path.parent.resolve() == base.parent.resolve() and path.name.startswith(f"{base.stem}-")


def default_dataset_path(verbose: bool = True) -> Path:
    """The built-in synthetic dataset, generated once (deterministically) under the data folder.

    The file name carries a hash of the generator's source, so a changed generator
    never leaves a stale file in use.
    """
    base = synthetic_dataset_path()
    digest = hashlib.sha256(Path(synthetic.__file__).read_bytes()).hexdigest()[:10]
    path = base.with_name(f"{base.stem}-{digest}.pkl")
    if not path.is_file():
        # earlier versions: hashed names, and the plain name used before names carried a hash
        for stale in [base, *base.parent.glob(f"{base.stem}-*.pkl")]:
            stale.unlink(missing_ok=True)
        save_dataset(synthetic.generate_default_dataset(seed=0), path)
    if verbose:
        print(f"No dataset file configured: using the built-in SYNTHETIC dataset ({path.name}).")
    return path


def open_dataset(config: DataConfig, verbose: bool = True) -> SkeletonDataset:
    """The dataset named by `config.path` (or the synthetic default), reduced to `config.classes`."""
    if config.path is None:
        path = default_dataset_path(verbose)
    else:
        path = resolve_data_path(config.path)
        if not path.is_file():
            raise UserInputError(
                f"{path}: dataset file not found (see data/README.md for where to get and put it)"
            )
    if config.cache:
        dataset = open_cached_dataset(path, config.classes, verbose=verbose)
    else:
        dataset = load_dataset(path)
        if config.classes:
            dataset = select_classes(dataset, list(config.classes))
    if verbose:
        print(f"Dataset {path.name}: {len(dataset.annotations)} clips, {dataset.num_classes} classes, "
              f"layout {dataset.layout.name}, splits {printable(', '.join(sorted(dataset.split)))}")
    return dataset
