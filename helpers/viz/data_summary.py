"""Tables and picks for looking at a dataset: class counts per split, clip statistics, example clips."""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.clip_ids import group_of
from helpers.data.dataset import SkeletonDataset
from helpers.data.source import is_default_dataset
from helpers.data.splits import Splits, groups_shared  # noqa: F401  (notebook 01 uses it from here)
from helpers.transforms.preprocess import rank_persons


def describe_source(dataset: SkeletonDataset) -> str:
    """A plain sentence on where the clips come from (real file or the built-in synthetic set)."""
    if is_default_dataset(dataset.source):
        return ("SYNTHETIC data: the built-in default dataset (stick figures animated by helpers.data.synthetic, "
                "not real video), because no dataset file is configured.")
    return f"REAL data from {dataset.source}."


def class_distribution(dataset: SkeletonDataset, splits: Splits) -> pd.DataFrame:
    """Clips per class on each side of the split, with totals; one row per class."""
    labels = {clip["frame_dir"]: clip["label"] for clip in dataset.annotations}
    table = pd.DataFrame(0, index=pd.Index(dataset.class_names, name="class"),
                         columns=["train", "val", "test"], dtype=int)
    for side in ("train", "val", "test"):
        for frame_dir in getattr(splits, side):
            table.iloc[labels[frame_dir], table.columns.get_loc(side)] += 1
    table["total"] = table.sum(axis=1)
    table.loc["all classes"] = table.sum()
    return table


def split_summary(splits: Splits) -> pd.DataFrame:
    """Clips and groups per side of the split."""
    rows = []
    for side in ("train", "val", "test"):
        ids = getattr(splits, side)
        groups = {group_of(i) for i in ids} - {None}
        rows.append({"side": side, "clips": len(ids), "groups": len(groups)})
    return pd.DataFrame(rows).set_index("side")


def clip_statistics(dataset: SkeletonDataset) -> pd.DataFrame:
    """Per clip: frames T, person slots M, and persons seen in the busiest frame."""
    rows = []
    for clip in dataset.annotations:
        score = clip["keypoint_score"]                                 # (M, T, V)
        seen = (score.astype(np.float32).max(axis=2) > 0).sum(axis=0)   # persons detected per frame, (T,)
        rows.append({"frame_dir": clip["frame_dir"], "class": dataset.class_names[clip["label"]],
                     "frames": clip["keypoint"].shape[1], "person_slots": clip["keypoint"].shape[0],
                     "max_persons_in_a_frame": int(seen.max())})
    return pd.DataFrame(rows)


def main_person(clip: dict, strategy: str = "max_score") -> int:
    """The person slot used as the main actor (see helpers.transforms.preprocess.rank_persons)."""
    return int(rank_persons(clip["keypoint_score"], strategy)[0])


def pick_clip(dataset: SkeletonDataset, min_persons: int = 1, min_frames: int = 1) -> dict:
    """The first clip (file order) with at least `min_persons` persons seen together in a frame and `min_frames` frames."""
    for clip in dataset.annotations:
        score = clip["keypoint_score"].astype(np.float32)
        together = ((score.max(axis=2) > 0).sum(axis=0)).max()
        if together >= min_persons and clip["keypoint"].shape[1] >= min_frames:
            return clip
    raise ValueError(f"{dataset.source}: no clip with {min_persons} persons and {min_frames} frames")


def frame_with_lowest_score(score: np.ndarray) -> int:
    """The frame (of a (T, V) score array) whose detected joints have the lowest mean score."""
    score = score.astype(np.float32)
    detected = score.max(axis=1) > 0
    means = np.where(detected, score.mean(axis=1), np.inf)
    return int(np.argmin(means))


def busiest_frame(clip: dict) -> int:
    """The first frame with the most persons detected (score above 0)."""
    seen = (clip["keypoint_score"].astype(np.float32).max(axis=2) > 0).sum(axis=0)   # (T,)
    return int(np.argmax(seen))


def layout_table(layout) -> pd.DataFrame:
    """One row per joint of a Layout: name, parent bone, mirror twin, role (centre / torso)."""
    parents = layout.parents()
    mirror = layout.flip_permutation()
    torso = {j for pair in layout.torso for j in pair}
    rows = []
    for joint, name in enumerate(layout.joint_names):
        roles = (["root"] if joint == layout.root else []) + (["centre"] if joint in layout.center else []) + \
                (["torso"] if joint in torso else [])
        rows.append({"joint": name, "parent": "-" if joint == layout.root else layout.joint_names[parents[joint]],
                     "mirror": "-" if mirror[joint] == joint else layout.joint_names[mirror[joint]],
                     "role": ", ".join(roles)})
    return pd.DataFrame(rows).rename_axis("index")
