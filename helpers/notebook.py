"""Settings of the notebook series 01-05: which config, smoke mode, where results go, which models.

One setting switches the whole series to another dataset: the environment
variable SKELETON_ACTIONS_CONFIG (a dataset file, e.g. configs/ucf101_5cls.yaml;
default configs/synthetic.yaml, the built-in synthetic dataset).  With CI set
(the notebooks' `smoke_test`), training runs SMOKE_EPOCHS epochs and large
datasets are cut down, and everything goes to runs/series_smoke/ so a CI run
never overwrites real results in runs/series/.

    series = SeriesSettings.from_env(smoke_test)   # what every notebook's config cell does
    config = series.config("improved")             # the series config with that model
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helpers.config import Config, compose_config
from helpers.data.dataset import SkeletonDataset
from helpers.data.source import open_dataset
from helpers.data.splits import Splits, config_splits
from helpers.errors import UserInputError
from helpers.io import atomic_write_json
from helpers.models.registry import build_model, count_parameters, is_fitted, model_kwargs
from helpers.paths import DEFAULT_DATASET_CONFIG, PROJECT_ROOT, resolve_data_path, runs_dir
from helpers.training.checkpoint import LoadedCheckpoint, load_checkpoint
from helpers.training.loop import train
from helpers.transforms.clips import stream_channels

CONFIG_ENV = "SKELETON_ACTIONS_CONFIG"

# Every model of the series, in table order: notebook 03 trains the first (the
# baseline), notebook 04 trains the rest and notebook 05 compares them all.
# Run name -> its recipe (configs/recipes/<recipe>.yaml), laid over the series'
# dataset file.  A new model is one line here.
SERIES_MODELS: dict[str, str] = {
    "baseline": "baseline",
    "improved": "improved",
    "stgcn": "stgcn",
    "ddnet": "ddnet",
    "classical": "classical",
}

# Smoke runs (CI set) train this many epochs; full runs the config's own.
SMOKE_EPOCHS = 1
# Smoke runs keep at most this many clips per class in each of the file's splits.
# The built-in default has at most 40 per class and split, so its smoke run sees
# the same clips (and prints the same split sizes) as a full run.
SMOKE_CLIPS_PER_CLASS = 40


def shrink_dataset(dataset: SkeletonDataset, per_class: int) -> SkeletonDataset:
    """Keep the first `per_class` clips of each class in each split list (deterministic)."""
    keep: set[str] = set()
    split = {}
    for name, members in dataset.split.items():
        counts: dict[int, int] = {}
        kept = []
        for frame_dir in members:
            label = dataset.clip(frame_dir)["label"]
            if counts.get(label, 0) < per_class:
                counts[label] = counts.get(label, 0) + 1
                kept.append(frame_dir)
        split[name] = kept
        keep.update(kept)
    clips = [clip for clip in dataset.annotations if clip["frame_dir"] in keep]
    return SkeletonDataset(clips, split, dataset.class_names, dataset.layout, dataset.source)


@dataclass
class SeriesSettings:
    config_path: Path               # the YAML every notebook starts from
    smoke: bool                     # CI smoke run: few epochs, small data, separate folder
    out_dir: Path                   # runs/series or runs/series_smoke
    models: list[str] = field(default_factory=lambda: list(SERIES_MODELS))
    _dataset: SkeletonDataset | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, smoke: bool | None = None) -> "SeriesSettings":
        """The settings of this process: SKELETON_ACTIONS_CONFIG, CI (unless `smoke` is given), runs folder."""
        smoke = "CI" in os.environ if smoke is None else bool(smoke)
        path = resolve_data_path(os.environ.get(CONFIG_ENV) or DEFAULT_DATASET_CONFIG)
        if not path.is_file():
            raise UserInputError(f"{CONFIG_ENV}={path}: config file not found")
        return cls(path, smoke, series_dir(smoke))

    # ---- configuration --------------------------------------------------------

    @property
    def baseline(self) -> str:
        return self.models[0]

    @property
    def later_models(self) -> list[str]:
        """The models after the baseline (trained by notebook 04)."""
        return self.models[1:]

    def base_config(self) -> Config:
        """The dataset file's settings over the defaults (no recipe)."""
        return compose_config(self.config_path)

    def config(self, run: str) -> Config:
        """The series config for model run `run` (a key of SERIES_MODELS): dataset file + the run's recipe."""
        if run not in SERIES_MODELS:
            raise UserInputError(f"unknown series model {run!r}; the series has: {', '.join(SERIES_MODELS)}")
        config = compose_config(self.config_path, SERIES_MODELS[run])
        if self.smoke:
            config.train.epochs = SMOKE_EPOCHS
        return config

    def run_dir(self, run: str) -> Path:
        return self.out_dir / run

    def checkpoint_path(self, run: str) -> Path:
        return self.run_dir(run) / "best.pt"

    @property
    def splits_path(self) -> Path:
        return self.out_dir / "splits.json"

    @property
    def comparison_path(self) -> Path:
        return self.out_dir / "comparison.json"

    def describe(self) -> str:
        mode = (f"SMOKE run (CI is set): {SMOKE_EPOCHS} epoch(s), at most {SMOKE_CLIPS_PER_CLASS} clips "
                "per class and split" if self.smoke else "full run")
        return (f"config  {shown_path(self.config_path)}  (set {CONFIG_ENV} to switch)\n"
                f"mode    {mode}\n"
                f"results {shown_path(self.out_dir)}\n"
                f"models  {', '.join(self.models)}")

    def _repr_pretty_(self, printer, cycle):  # IPython shows the summary, not the dataclass
        printer.text(self.describe())

    # ---- data and splits ------------------------------------------------------

    def load_dataset(self, verbose: bool = True) -> SkeletonDataset:
        """The series' dataset (cached): the config's file or the synthetic default, cut down in smoke runs."""
        if self._dataset is None:
            dataset = open_dataset(self.base_config().data, verbose)
            if self.smoke:
                dataset = shrink_dataset(dataset, SMOKE_CLIPS_PER_CLASS)
            self._dataset = dataset
        return self._dataset

    def make_splits(self, dataset: SkeletonDataset) -> Splits:
        return config_splits(dataset, self.base_config().data)

    def save_splits(self, splits: Splits) -> Path:
        return atomic_write_json(self.splits_path, splits.as_dict())

    def check_saved_splits(self, dataset: SkeletonDataset) -> Splits:
        """The split notebook 01 saved; refuses to go on if the config now gives another one."""
        if not self.splits_path.is_file():
            raise UserInputError(f"{self.splits_path}: not found; run notebook 01_data_splitting first")
        saved = json.loads(self.splits_path.read_text())
        splits = self.make_splits(dataset)
        for side in ("train", "val", "test"):
            if saved[side] != getattr(splits, side):
                raise UserInputError(f"{self.splits_path}: the {side} split differs from the one the config gives "
                                     "now; rerun notebook 01_data_splitting")
        print(f"Same split as notebook 01: {len(splits.train)} train / {len(splits.val)} val / "
              f"{len(splits.test)} test clips")
        return splits

    # ---- models ---------------------------------------------------------------

    def build_model(self, run: str, dataset: SkeletonDataset):
        """A freshly initialised model of series run `run` for this dataset (to inspect; train() builds its own)."""
        config = self.config(run)
        return build_model(config.model.name, dataset.num_classes, dataset.layout,
                           stream_channels(config.model.streams), **model_kwargs(config))

    def parameter_count(self, run: str, dataset: SkeletonDataset) -> int:
        return count_parameters(self.build_model(run, dataset))

    def changes_from_baseline(self, run: str) -> dict[str, str]:
        """Config fields where `run` differs from the baseline run: 'section.field' -> 'old -> new'."""
        base, other = self.config(self.baseline).to_dict(), self.config(run).to_dict()
        changes = {}
        for section, values in other.items():
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                if base[section].get(key) != value:
                    changes[f"{section}.{key}"] = f"{base[section].get(key)!r} -> {value!r}"
        return changes

    def train(self, run: str, dataset: SkeletonDataset | None = None, verbose: bool = True) -> list[dict]:
        """Train series model `run` into its run folder; returns the history (one row per epoch)."""
        return train(self.config(run), dataset if dataset is not None else self.load_dataset(), self.run_dir(run),
                     verbose)

    def history(self, run: str) -> list[dict]:
        """The history a finished run wrote (history.csv), as train() returned it."""
        path = self.run_dir(run) / "history.csv"
        if not path.is_file():
            raise UserInputError(f"{path}: not found; train {run!r} first (notebook 03 or 04)")
        with path.open() as file:
            return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()} for row in csv.DictReader(file)]

    def load_checkpoint(self, run: str) -> LoadedCheckpoint:
        path = self.checkpoint_path(run)
        if not path.is_file():
            raise UserInputError(f"{path}: not found; train {run!r} first (notebook 03 or 04)")
        return load_checkpoint(path)

    def load_checkpoints(self) -> dict[str, LoadedCheckpoint]:
        return {run: self.load_checkpoint(run) for run in self.models}


def shown_path(path: str | Path) -> str:
    """A path for printing: relative to the project root when inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def series_dir(smoke: bool) -> Path:
    """Where the series writes: runs/series, or runs/series_smoke for CI smoke runs."""
    return runs_dir() / ("series_smoke" if smoke else "series")


def describe_checkpoint(checkpoint: LoadedCheckpoint) -> str:
    """One line: model, best epoch (a classical model: fitted once) and its validation metrics."""
    metrics = checkpoint.state.get("metrics", {})
    when = ("fitted once" if is_fitted(checkpoint.model_name)
            else f"epoch {checkpoint.state.get('epoch')} of {checkpoint.config.train.epochs}")
    return (f"{shown_path(checkpoint.path)}: {checkpoint.model_name}, {when}, "
            f"val accuracy {metrics.get('val_acc', float('nan')):.3f}, "
            f"val macro-F1 {metrics.get('val_f1', float('nan')):.3f}")


def config_yaml(config: Config) -> str:
    """The config as the YAML that is saved with the run."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
