"""Settings of the notebook series 01-05: which config, smoke mode, where results go, which models and seeds.

(Notebook 06, your own videos, has its own settings: helpers.notebook_videos.)

One setting switches the whole series to another dataset: the environment
variable SKELETON_ACTIONS_CONFIG (a dataset file, e.g. configs/ucf101_5cls.yaml;
default configs/synthetic.yaml, the built-in synthetic dataset).  In a smoke run
(`smoke_run()`: CI set) training runs SMOKE_EPOCHS epochs of one seed, large
datasets are cut down, and everything goes to runs/series_smoke/ so a CI run
never overwrites real results in runs/series/.

Every series model is trained with each of SERIES_SEEDS (weight init, shuffling,
augmentation), on SERIES_THREADS torch CPU threads with deterministic algorithms,
so that the same command on the same machine prints the same numbers.

    series = SeriesSettings.from_env()           # what every notebook's config cell does
    config = series.config("improved")           # the series config with that model (first seed)
    series.train("improved", dataset, seed=1)    # into runs/series/improved_seed1/
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
import yaml

from helpers.config import Config, compose_config
from helpers.data import synthetic
from helpers.data.dataset import SkeletonDataset, validate_dataset
from helpers.data.source import is_default_dataset, open_dataset
from helpers.data.splits import Splits, config_splits
from helpers.errors import UserInputError
from helpers.io import atomic_write_json, atomic_write_text
from helpers.models.registry import build_model, count_parameters, is_fitted, model_kwargs
from helpers.paths import DEFAULT_DATASET_CONFIG, PROJECT_ROOT, resolve_data_path, runs_dir
from helpers.training.checkpoint import LoadedCheckpoint, load_checkpoint
from helpers.training.determinism import use_deterministic_algorithms
from helpers.training.loop import train
from helpers.training.run_folder import require_finished
from helpers.transforms.clips import stream_channels
from helpers.viz.run_summary import best_epoch

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

# Training seeds (train.seed) of the series models.  With ~100 test clips one clip
# is about a point of accuracy and one seed cannot order models a few points apart;
# notebook 05 reports the mean and spread over the seeds.  The first seed's run is
# the one shown in notebooks 03-04 (runs/series/<model>/).
SERIES_SEEDS = (0, 1, 2)
# Models trained with fewer of SERIES_SEEDS: run -> how many.  ST-GCN trains about
# four times as long as each other model: two more seeds of it would add half again
# to the series' time.
SEED_COUNTS: dict[str, int] = {"stgcn": 1}
# Torch CPU threads of every series run (recorded as train.num_threads): a float
# sum split over another number of threads rounds differently, and over many
# epochs that changes which clips a model gets right.  One thread: the same on any
# machine, and on a shared one far faster than two threads waiting for each other.
SERIES_THREADS = 1
# Training device of the series: results on a GPU differ from the CPU's in the last
# bits and then in the numbers; these small models train fast on a CPU.
SERIES_DEVICE = "cpu"
# A second, larger test set for the built-in synthetic data: this many new draws of
# the same generator (generator seeds 1, 2, ...: new actors and clips of the same
# ten motions), about 400 clips each.  Two make the clips' noise small beside the
# seeds' (scoring them is most of notebook 05's time).  Real data has no such draw.
FRESH_TEST_DRAWS = 2

# Smoke runs train this many epochs of the first seed; full runs the config's own.
SMOKE_EPOCHS = 1
# Smoke runs keep at most this many clips per class in each of the file's splits.
# The built-in default has at most 40 per class and split, so its smoke run sees
# the same clips (and prints the same split sizes) as a full run.
SMOKE_CLIPS_PER_CLASS = 40
# Smoke runs keep this many clips per class of one fresh synthetic draw.
SMOKE_FRESH_CLIPS_PER_CLASS = 10


def smoke_run(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this is a smoke run: CI set to anything but '', '0', 'false' or 'no'.

    The project's one test of the CI variable: the series shrinks (SMOKE_EPOCHS, one
    seed, runs/series_smoke), the report goes to runs/report_smoke, and tests that
    need the shared real data fail instead of skipping.
    """
    value = (os.environ if environ is None else environ).get("CI")
    return value is not None and value.strip().lower() not in ("", "0", "false", "no")


def deterministic_torch(threads: int = SERIES_THREADS) -> None:
    """This process's torch as the series' training runs have it: `threads` CPU threads, deterministic
    algorithms (training sets both from the config; notebook 05 calls this before it evaluates)."""
    torch.set_num_threads(threads)
    use_deterministic_algorithms("cpu")


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


def fresh_synthetic_test(draws: int) -> SkeletonDataset:
    """`draws` new draws of the built-in synthetic dataset, every clip in test1 (train1 empty).

    Draw k uses generator seed k (the series' data is seed 0): new actors and clips
    of the same classes and motions.  Its groups are renumbered from 25k + 1, so
    ids stay unique (`v_Waving_g26_c01` is draw 1's first Waving group).
    """
    clips, class_names, layout = [], None, None
    for draw in range(1, draws + 1):
        data = synthetic.generate_default_dataset(seed=draw)
        class_names, layout = data["class_names"], data["layout"]
        for clip in data["annotations"]:
            stem, group, number = clip["frame_dir"].rsplit("_", 2)
            renumbered = f"{stem}_g{int(group[1:]) + 25 * draw:02d}_{number}"
            clips.append({**clip, "frame_dir": renumbered})
    data = {"split": {"train1": [], "test1": [clip["frame_dir"] for clip in clips]}, "annotations": clips,
            "class_names": class_names, "layout": layout}
    seeds = "1" if draws == 1 else f"1..{draws}"
    return validate_dataset(data, f"synthetic: generate_default_dataset(seed={seeds}), new actors and clips")


@dataclass
class SeriesSettings:
    config_path: Path               # the YAML every notebook starts from
    smoke: bool                     # smoke run: few epochs, one seed, small data, separate folder
    out_dir: Path                   # runs/series or runs/series_smoke
    models: list[str] = field(default_factory=lambda: list(SERIES_MODELS))
    _dataset: SkeletonDataset | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, smoke: bool | None = None) -> "SeriesSettings":
        """The settings of this process: SKELETON_ACTIONS_CONFIG, smoke_run() (unless `smoke` is given), runs folder."""
        smoke = smoke_run() if smoke is None else bool(smoke)
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

    @property
    def device(self) -> str:
        """Where the series trains and evaluates: SERIES_DEVICE."""
        return SERIES_DEVICE

    @property
    def seeds(self) -> list[int]:
        """Training seeds of the series: SERIES_SEEDS, only the first in smoke runs."""
        return list(SERIES_SEEDS[:1] if self.smoke else SERIES_SEEDS)

    def seeds_of(self, run: str) -> list[int]:
        """The training seeds of model `run`: SERIES_SEEDS, or as many as SEED_COUNTS says; one in smoke runs."""
        return self.seeds[:SEED_COUNTS.get(run, len(SERIES_SEEDS))]

    def base_config(self) -> Config:
        """The dataset file's settings over the defaults (no recipe)."""
        return compose_config(self.config_path)

    def config(self, run: str, seed: int | None = None) -> Config:
        """The series config for model run `run` (a key of SERIES_MODELS): dataset file + the run's recipe,
        with training seed `seed` (default the first), the series' thread count and device."""
        if run not in SERIES_MODELS:
            raise UserInputError(f"unknown series model {run!r}; the series has: {', '.join(SERIES_MODELS)}")
        config = compose_config(self.config_path, SERIES_MODELS[run])
        if self.smoke:
            config.train.epochs = SMOKE_EPOCHS
        config.train.seed = self.seeds[0] if seed is None else seed
        config.train.num_threads = SERIES_THREADS
        config.train.device = SERIES_DEVICE
        return config

    def run_dir(self, run: str, seed: int | None = None) -> Path:
        """runs/series/<run> for the first seed, runs/series/<run>_seed<k> for the others."""
        if seed is None or seed == self.seeds[0]:
            return self.out_dir / run
        return self.out_dir / f"{run}_seed{seed}"

    def checkpoint_path(self, run: str, seed: int | None = None) -> Path:
        return self.run_dir(run, seed) / "best.pt"

    @property
    def splits_path(self) -> Path:
        return self.out_dir / "splits.json"

    @property
    def comparison_path(self) -> Path:
        return self.out_dir / "comparison.json"

    def describe(self) -> str:
        mode = (f"SMOKE run (CI is set): {SMOKE_EPOCHS} epoch(s), one seed, at most {SMOKE_CLIPS_PER_CLASS} "
                "clips per class and split" if self.smoke else "full run")
        return (f"config  {shown_path(self.config_path)}  (set {CONFIG_ENV} to switch)\n"
                f"mode    {mode}\n"
                f"results {shown_path(self.out_dir)}\n"
                f"models  {', '.join(self.models)}\n"
                f"seeds   {self._seeds_text()}; {SERIES_THREADS} torch thread(s), {SERIES_DEVICE}")

    def _seeds_text(self) -> str:
        fewer = [f"{run}: {', '.join(map(str, self.seeds_of(run)))}" for run in self.models
                 if self.seeds_of(run) != self.seeds]
        return ", ".join(map(str, self.seeds)) + (f" ({'; '.join(fewer)})" if fewer else "")

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

    def fresh_test_set(self, dataset: SkeletonDataset) -> SkeletonDataset | None:
        """New synthetic test clips (`fresh_synthetic_test`) when the series uses the built-in data, else None;
        in smoke runs a few of one draw."""
        if not is_default_dataset(dataset.source):
            return None
        if self.smoke:
            return shrink_dataset(fresh_synthetic_test(1), SMOKE_FRESH_CLIPS_PER_CLASS)
        return fresh_synthetic_test(FRESH_TEST_DRAWS)

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

    def differences_from_baseline(self, run: str) -> dict[str, tuple]:
        """Config fields where `run` differs from the baseline run: 'section.field' -> (baseline's, run's value)."""
        base, other = self.config(self.baseline).to_dict(), self.config(run).to_dict()
        return {f"{section}.{key}": (base[section].get(key), value)
                for section, values in other.items() if isinstance(values, dict)
                for key, value in values.items() if base[section].get(key) != value}

    def changes_from_baseline(self, run: str) -> dict[str, str]:
        """`differences_from_baseline` as 'section.field' -> 'old -> new'."""
        return {key: f"{old!r} -> {new!r}" for key, (old, new) in self.differences_from_baseline(run).items()}

    def changes_table(self, runs: list[str] | None = None):
        """A DataFrame: one row per config field where some run differs from the baseline, with the
        baseline's value and each run's own (blank where it keeps the baseline's)."""
        runs = self.later_models if runs is None else runs
        differences = {run: self.differences_from_baseline(run) for run in runs}
        fields = sorted({key for changes in differences.values() for key in changes})
        rows = []
        for key in fields:
            old = next(changes[key][0] for changes in differences.values() if key in changes)
            rows.append({"field": key, self.baseline: repr(old),
                         **{run: repr(differences[run][key][1]) if key in differences[run] else "" for run in runs}})
        return pd.DataFrame(rows).set_index("field")

    def train(self, run: str, dataset: SkeletonDataset | None = None, seed: int | None = None) -> list[dict]:
        """Train series model `run` with training seed `seed` into its run folder; returns the history.

        The epoch lines go to `train.log` in the run folder (beside history.csv);
        one line is printed: epochs, time, best epoch and its validation scores.
        """
        config = self.config(run, seed)
        dataset = dataset if dataset is not None else self.load_dataset()
        return train_logged(config, dataset, self.run_dir(run, seed), f"{run}, seed {config.train.seed}")

    def train_other_seeds(self, run: str, dataset: SkeletonDataset | None = None) -> None:
        """Train `run` with each of its seeds but the first (one printed line each); notebook 05 compares them all."""
        others = self.seeds_of(run)[1:]
        if not others:
            print(f"{run}: no other seed to train ({'smoke run' if self.smoke else 'SEED_COUNTS'})")
        for seed in others:
            self.train(run, dataset, seed)

    def history(self, run: str, seed: int | None = None) -> list[dict]:
        """The history a finished run wrote (history.csv), as train() returned it."""
        path = self.run_dir(run, seed) / "history.csv"
        if not path.is_file():
            raise UserInputError(f"{path}: not found; train {run!r} first (notebook 03 or 04)")
        require_finished(self.run_dir(run, seed))
        with path.open() as file:
            return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()} for row in csv.DictReader(file)]

    def load_checkpoint(self, run: str, seed: int | None = None) -> LoadedCheckpoint:
        path = self.checkpoint_path(run, seed)
        if not path.is_file():
            raise UserInputError(f"{path}: not found; train {run!r} first (notebook 03 or 04)")
        require_finished(self.run_dir(run, seed))
        return load_checkpoint(path)

    def load_checkpoints(self) -> dict[str, LoadedCheckpoint]:
        """The first seed's best checkpoint of every model."""
        return {run: self.load_checkpoint(run) for run in self.models}

    def load_seed_checkpoints(self) -> dict[str, dict[int, LoadedCheckpoint]]:
        """Every model's best checkpoint of every seed: run -> seed -> checkpoint."""
        return {run: {seed: self.load_checkpoint(run, seed) for seed in self.seeds_of(run)} for run in self.models}


def train_logged(config: Config, dataset: SkeletonDataset, run_dir: Path, name: str) -> list[dict]:
    """train() with its epoch lines in `run_dir`/train.log (beside history.csv) and one printed line:
    epochs, time, best epoch and its validation scores.  Returns the history."""
    start, log = time.perf_counter(), io.StringIO()
    with contextlib.redirect_stdout(log):
        history = train(config, dataset, run_dir)
    atomic_write_text(run_dir / "train.log", log.getvalue())
    best = history[(best_epoch(history) or len(history)) - 1]
    epochs = f"{len(history)} epoch" + ("s" if len(history) != 1 else "")
    print(f"{name}: {epochs} in {time.perf_counter() - start:.0f} s; best epoch {best['epoch']} "
          f"(val accuracy {best['val_acc']:.3f}, macro-F1 {best['val_f1']:.3f}); log {shown_path(run_dir / 'train.log')}")
    return history


def shown_path(path: str | Path) -> str:
    """A path for printing: relative to the project root when inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def series_dir(smoke: bool) -> Path:
    """Where the series writes: runs/series, or runs/series_smoke for smoke runs."""
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
