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


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory, monkeypatch):
    """Dataset caches built by tests go to a temp folder, never into the project's data/.cache."""
    if "SKELETON_ACTIONS_CACHE" not in os.environ:
        monkeypatch.setenv("SKELETON_ACTIONS_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


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
