"""Shared fixtures: tiny generated datasets, keypoint import inputs and the real sample data folder."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from helpers.data.layouts import COCO17
from helpers.notebook import smoke_run
from helpers.paths import shared_data_dir
from helpers.pose.base import PoseEstimator


def real_data_path(*parts: str) -> Path:
    """A file under the shared real-data folder; skips (outside CI) or fails (in CI: `smoke_run()`) when absent."""
    path = shared_data_dir().joinpath(*parts)
    if not path.is_file():
        message = (f"real sample data {path} not found; set SKELETON_ACTIONS_SHARED_DATA to the folder "
                   "holding ucf101_sample/ and jhmdb/")
        if smoke_run():
            pytest.fail(message)
        pytest.skip(message)
    return path


# scripts/test.sh runs the suite in parallel (`pytest -n auto`, pytest-xdist).  Each test module runs in
# one worker, so that its module-wide fixtures are built once; modules that share an expensive
# build (a session-scoped fixture) run together in one worker too:
SHARED_BUILDS = {
    "tests/tools/test_report.py": "the smoke series",          # tests/tools/report_build.py
    "tests/tools/test_report_browser.py": "the smoke series",
    "tests/test_predict.py": "the push-up videos",            # conftest's pushfit_dataset, pushfit_checkpoint
    "tests/data/importers/test_videos.py": "the push-up videos",
}


def parallel_group(nodeid: str) -> str:
    """The group of tests that one xdist worker runs together: a shared build's name, else the module."""
    module = nodeid.split("::", 1)[0]
    return SHARED_BUILDS.get(module, module)


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scope scheduling, with `parallel_group` as the scope."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedBuildScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return parallel_group(nodeid)

    return SharedBuildScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """Put the notebook series' tests first: their build is the longest single piece of the suite, so it
    starts while the other workers take the rest (xdist hands out groups in collection order)."""
    items.sort(key=lambda item: parallel_group(item.nodeid) != "the smoke series")  # stable otherwise


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread_per_parallel_worker():
    """With several xdist workers on the machine's cores, each in-process torch uses one thread
    (torch's default of one thread per core would oversubscribe them)."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        yield
        torch.set_num_threads(threads)
    else:
        yield


@pytest.fixture
def ucf_sample_path() -> Path:
    return real_data_path("ucf101_sample", "mini_ucf101.pkl")


@pytest.fixture
def jhmdb_paths() -> tuple[Path, Path]:
    return real_data_path("jhmdb", "GT_train_1.pkl"), real_data_path("jhmdb", "GT_test_1.pkl")


def make_tiny_dataset(num_classes: int = 3, groups: int = 10, clips_per_group: int = 2, seed: int = 0,
                      frames: tuple[int, int] = (20, 50)) -> dict:
    """A small, learnable dataset in the PYSKL format: each class moves the wrists at its own frequency.

    Groups g01..g03 form test1, the rest train1 (the UCF101 rule, scaled down).
    """
    rng = np.random.default_rng(seed)
    base = np.array([[170, 60], [165, 55], [175, 55], [160, 58], [180, 58], [150, 90], [190, 90],
                     [140, 120], [200, 120], [135, 150], [205, 150], [157, 150], [183, 150],
                     [155, 190], [185, 190], [155, 230], [185, 230]], dtype=np.float32)
    annotations, split = [], {"train1": [], "test1": []}
    wrists = [COCO17.joint_names.index("left_wrist"), COCO17.joint_names.index("right_wrist")]
    for label in range(num_classes):
        for group in range(1, groups + 1):
            for clip in range(1, clips_per_group + 1):
                length = int(rng.integers(*frames))
                t = np.arange(length)[:, None]
                keypoint = np.repeat(base[None], length, axis=0) + rng.normal(0, 1.0, (length, 17, 2))
                keypoint[:, wrists, 1] += 25 * np.sin(2 * np.pi * (label + 1) * t / 30)
                keypoint += rng.uniform(-20, 20, 2)
                frame_dir = f"v_Class{label}_g{group:02d}_c{clip:02d}"
                annotations.append({
                    "frame_dir": frame_dir, "label": label, "total_frames": length,
                    "img_shape": (256, 340), "original_shape": (256, 340),
                    "keypoint": keypoint[None].astype(np.float16),
                    "keypoint_score": rng.uniform(0.6, 1.0, (1, length, 17)).astype(np.float16),
                })
                split["test1" if group <= 3 else "train1"].append(frame_dir)
    return {"split": split, "annotations": annotations, "class_names": [f"Class{i}" for i in range(num_classes)]}


def write_ddnet(path, poses, labels):
    """A DD-Net pickle {'pose': poses, 'label': labels} at `path` (input of helpers.data.importers.ddnet)."""
    with open(path, "wb") as file:
        pickle.dump({"pose": poses, "label": labels}, file)
    return path


def random_poses(rng, count, joints=15):
    """`count` random DD-Net poses (T, V, 2), T between 15 and 39."""
    return [rng.normal(size=(int(rng.integers(15, 40)), joints, 2)) for _ in range(count)]


def make_clip_folder(root, classes=("jump", "sit", "wave"), clips=10, joints=17, grouped=False, seed=0):
    """ROOT/<class>/<clip>.npy (12, joints, 3) clips (input of helpers.data.importers.folder); UCF-style names if grouped."""
    rng = np.random.default_rng(seed)
    for class_name in classes:
        (root / class_name).mkdir(parents=True)
        for index in range(clips):
            stem = f"v_{class_name}_g{index // 2 + 1:02d}_c{index % 2 + 1:02d}" if grouped else f"clip{index:02d}"
            np.save(root / class_name / f"{stem}.npy", rng.uniform(0, 100, size=(12, joints, 3)))
    return root


def run_convert(*argv):
    """Run the command `python -m helpers.convert` in-process; returns its exit code."""
    from helpers import convert
    from helpers.cli import run_command

    return run_command(convert.main, [str(a) for a in argv])


@pytest.fixture
def tiny_dataset_dict() -> dict:
    return make_tiny_dataset()


@pytest.fixture
def tiny_dataset_path(tmp_path, tiny_dataset_dict) -> Path:
    from helpers.data.dataset import save_dataset

    return save_dataset(tiny_dataset_dict, tmp_path / "tiny.pkl")


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory):
    """Dataset and keypoint caches built by tests go to a temp folder, never into the project's data/.cache
    (session-wide, so that module- and session-scoped fixtures use it as well)."""
    with pytest.MonkeyPatch.context() as patch:
        if "SKELETON_ACTIONS_CACHE" not in os.environ:
            patch.setenv("SKELETON_ACTIONS_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        yield


def seeded_training_losses(make_model, make_optimizer, steps: int = 5) -> list[float]:
    """Losses of `steps` training steps on one fixed random JHMDB-15 batch (8 clips, 4 classes, T=16,
    one person), after seeding torch: for tests that a model trains reproducibly."""
    import torch
    import torch.nn.functional as F

    from helpers.data.layouts import JHMDB15

    torch.manual_seed(0)
    model = make_model()
    x = torch.randn(8, 2, 16, JHMDB15.num_joints, 1)  # (N, C, T, V, M)
    y = torch.arange(8) % 4
    optimizer = make_optimizer(model.parameters())
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# ---- videos and pose estimation ---------------------------------------------------

def require_mediapipe() -> None:
    """Skip (outside CI) or fail (in CI, where scripts/setup.sh installs it) without mediapipe."""
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        message = "mediapipe is not installed; scripts/setup.sh installs it (requirements-nodeps.txt)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def pushfit_video(name: str) -> Path:
    """A real push-up video of ../shared/data/pushfit_sample ('correct10' or 'wrong101')."""
    kind = "correct" if name.startswith("correct") else "wrong"
    return real_data_path("pushfit_sample", "videos", kind, f"{name}.mp4")


def write_test_video(path, frames: int = 12, size: tuple[int, int] = (48, 64), fps: float = 25.0,
                     brightness: int | None = None) -> Path:
    """A small MP4 (mp4v) whose frame t is filled with grey level 40 + 10 t (or `brightness`), (H, W) = size."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for t in range(frames):
        level = brightness if brightness is not None else min(250, 40 + 10 * t)
        writer.write(np.full((height, width, 3), level, np.uint8))
    writer.release()
    return path


class FakeEstimator(PoseEstimator):
    """A PoseEstimator without MediaPipe: a fixed COCO-17 pose shifted by each frame's mean
    brightness; frames darker than 20 have nobody in them.  Counts the frames it was given."""

    layout = COCO17
    calls = 0   # frames estimated in this process, by all instances

    def __init__(self, offset: float = 0.0):
        self.offset = offset

    def settings(self) -> dict:
        return {"estimator": "fake", "offset": self.offset}

    def track(self, frames):
        base = np.stack([np.arange(17) * 2.0, np.arange(17) * 3.0], axis=1).astype(np.float32)   # (17, 2)
        for frame in frames:
            FakeEstimator.calls += 1
            level = float(frame.mean())
            if level < 20:
                yield np.zeros((17, 2), np.float32), np.zeros(17, np.float32)
            else:
                yield base + level + self.offset, np.full(17, 0.9, np.float32)


PUSHFIT_SUBSET = ("correct10", "correct1", "wrong101", "wrong1")   # short ones: 45-83 frames, 320x240-640x360


@pytest.fixture(scope="session")
def pushfit_dataset(tmp_path_factory) -> Path:
    """Four real push-up videos (two per class), linked into ROOT/<class>/, converted with BlazePose by
    `python -m helpers.convert videos` with 2 workers; test1 holds one video of each class."""
    require_mediapipe()
    root = tmp_path_factory.mktemp("pushfit") / "videos"
    for name in PUSHFIT_SUBSET:
        target = root / ("correct" if name.startswith("correct") else "wrong") / f"{name}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(pushfit_video(name))
    out = root.parent / "pushfit.pkl"
    assert run_convert("videos", root, "--out", out, "--workers", "2", "--test-fraction", "0.5") == 0
    return out


@pytest.fixture(scope="session")
def pushfit_checkpoint(pushfit_dataset) -> Path:
    """best.pt of a tiny LSTM trained for 2 epochs on `pushfit_dataset` (classes correct, wrong)."""
    from helpers.data.dataset import load_dataset
    from helpers.training.loop import train
    from tests.training.test_loop import tiny_config

    config = tiny_config(epochs=2)
    config.data.path, config.data.val_fraction = str(pushfit_dataset), 0.0
    run = pushfit_dataset.parent / "run"
    train(config, load_dataset(pushfit_dataset), run, verbose=False)
    return run / "best.pt"
