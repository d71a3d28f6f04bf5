"""Settings of notebook 06 (your own videos): which folder, smoke mode, where results go, how it trains.

The video folder `ROOT/<class>/<video>`: the environment variable
SKELETON_ACTIONS_VIDEOS, else the real push-up sample
(`../shared/data/pushfit_sample/videos`) when it is there; with neither,
`available` is False and the settings say how to point the notebook at a folder.
With CI set (the notebook's `smoke_test`), only the SMOKE_VIDEOS_PER_CLASS
shortest videos of each class are converted, training runs SMOKE_EPOCHS epoch,
and everything goes to runs/videos_smoke/ instead of runs/videos/.

    videos = VideoSettings.from_env(smoke_test)
    dataset = videos.convert()          # = python -m helpers.convert videos ROOT --out <results>/videos.pkl
    history = videos.train(dataset)     # = python -m helpers.train --config videos --recipe ddnet --set data.path=...
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from helpers.config import Config, compose_config
from helpers.convert import write_dataset
from helpers.data.dataset import SkeletonDataset
from helpers.data.importers.videos import convert_videos, find_videos
from helpers.errors import UserInputError
from helpers.notebook import SERIES_DEVICE, SERIES_THREADS, SMOKE_EPOCHS, shown_path, smoke_run, train_logged
from helpers.paths import PROJECT_ROOT, runs_dir, shared_data_dir
from helpers.pose.blazepose import BlazePose
from helpers.video.reader import video_info

VIDEOS_ENV = "SKELETON_ACTIONS_VIDEOS"
DATASET_CONFIG = PROJECT_ROOT / "configs" / "videos.yaml"    # the dataset file: data and preprocess
RECIPE = "ddnet"                                             # configs/recipes/ddnet.yaml
SMOKE_VIDEOS_PER_CLASS = 3
SAMPLE_ORIGIN = "the real push-up sample (PushFit)"


def sample_videos() -> Path:
    return shared_data_dir() / "pushfit_sample" / "videos"


@dataclass
class VideoSettings:
    root: Path | None         # the video folder, None when there is none
    origin: str               # where it came from, in words
    smoke: bool
    out_dir: Path             # runs/videos or runs/videos_smoke

    @classmethod
    def from_env(cls, smoke: bool | None = None) -> "VideoSettings":
        """The settings of this process: SKELETON_ACTIONS_VIDEOS, CI (unless `smoke` is given), runs folder."""
        smoke = smoke_run() if smoke is None else bool(smoke)
        out_dir = runs_dir() / ("videos_smoke" if smoke else "videos")
        if os.environ.get(VIDEOS_ENV):
            root = Path(os.environ[VIDEOS_ENV]).expanduser()
            if not root.is_dir():
                raise UserInputError(f"{VIDEOS_ENV}={root}: folder not found")
            return cls(root, f"{VIDEOS_ENV}", smoke, out_dir)
        if sample_videos().is_dir():
            return cls(sample_videos(), SAMPLE_ORIGIN, smoke, out_dir)
        return cls(None, "none", smoke, out_dir)

    @property
    def available(self) -> bool:
        return self.root is not None

    @property
    def dataset_path(self) -> Path:
        return self.out_dir / "videos.pkl"

    @property
    def run_dir(self) -> Path:
        return self.out_dir / "run"

    def describe(self) -> str:
        if not self.available:
            return (f"NO VIDEO FOLDER: {VIDEOS_ENV} is not set and the push-up sample "
                    f"({shown_path(sample_videos())}) is not there, so this notebook shows nothing.\n"
                    f"Point it at your videos: put them in FOLDER/<class name>/<video>.mp4 (or .avi, .mov, .mkv, "
                    f".webm) and start Jupyter with {VIDEOS_ENV}=FOLDER.")
        mode = (f"SMOKE run (CI is set): the {SMOKE_VIDEOS_PER_CLASS} shortest videos of each class, "
                f"{SMOKE_EPOCHS} epoch(s)" if self.smoke else "full run: every video")
        # the sample lies outside the project: named by its place in the shared data folder, not the machine's path
        folder = ("pushfit_sample/videos in the shared data folder" if self.origin == SAMPLE_ORIGIN
                  else shown_path(self.root))
        return (f"videos  {folder}  ({self.origin}; set {VIDEOS_ENV} to switch)\n"
                f"mode    {mode}\n"
                f"results {shown_path(self.out_dir)}\n"
                f"config  {shown_path(DATASET_CONFIG)} + recipe {RECIPE}")

    def _repr_pretty_(self, printer, cycle):  # IPython shows the summary, not the dataclass
        printer.text(self.describe())

    def videos(self) -> list[tuple[str, Path]]:
        """The (class, video) pairs to convert: all, or in smoke runs the shortest few of each class."""
        _, files, _ = find_videos(self.root)
        if not self.smoke:
            return files
        chosen = []
        for name in sorted({c for c, _ in files}):
            mine = sorted((p for c, p in files if c == name), key=lambda p: (video_info(p).frames or 0, p.name))
            chosen += [(name, p) for p in mine[:SMOKE_VIDEOS_PER_CLASS]]
        return chosen

    def convert(self, workers: int | None = None) -> SkeletonDataset:
        """The folder's videos to the dataset file (`python -m helpers.convert videos`), cached per video."""
        data, report = convert_videos(self.root, BlazePose(), workers=workers or os.cpu_count() or 1,
                                      videos=self.videos())
        print(report.summary())
        dataset = write_dataset(data, self.dataset_path, overwrite=True)
        print(f"{len(dataset.annotations)} clips, classes {', '.join(dataset.class_names)}; "
              f"{', '.join(f'{name} {len(ids)}' for name, ids in sorted(dataset.split.items()))} "
              f"-> {shown_path(self.dataset_path)}")
        return dataset

    def config(self) -> Config:
        """configs/videos.yaml + the recipe, reading this notebook's dataset file (SMOKE_EPOCHS in smoke runs),
        on the series' thread count and device, so that a re-run gives the same numbers."""
        # the notebook's own dataset file, relative to the project when inside it
        config = compose_config(DATASET_CONFIG, RECIPE, {"data": {"path": shown_path(self.dataset_path)}})
        if self.smoke:
            config.train.epochs = SMOKE_EPOCHS
        config.train.num_threads, config.train.device = SERIES_THREADS, SERIES_DEVICE
        return config

    def train(self, dataset: SkeletonDataset) -> list[dict]:
        """Train into `run_dir`: the epoch lines go to its train.log, one line is printed."""
        config = self.config()
        return train_logged(config, dataset, self.run_dir, f"{config.model.name} on {self.root.name}")

    def held_aside(self, dataset: SkeletonDataset) -> dict:
        """The longest test video: never trained on, and the one with the most windows in its timeline."""
        test = dataset.split_clips("test1")
        return max(test, key=lambda clip: (clip["total_frames"], clip["frame_dir"]))
