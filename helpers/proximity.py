"""Command: how close are validation and test clips to the training clips?  A check of the carve-out.

    python -m helpers.proximity --config configs/jhmdb_stgcn_joint.yaml [--carveouts 0,1,2,3,4]

A validation carve-out stands in for the test split only if its clips are as new
to the model as test clips are.  When one source video gives several clips (the
same person, camera and body proportions) and a carve-out splits them, validation
clips have near twins in training and validation overrates test.  This command
describes each clip by its body shape (`body_shape`: scale-free distances between
all joint pairs, mean and spread over frames; no labels, no model) and prints,
for each carve-out (`data.seed`), the median distance from a validation clip and
from a test clip to its nearest training clip.  Clearly smaller validation
distances are the sign of such twins.  Test labels are never read.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from helpers.cli import parse_list, run_command
from helpers.config import load_config
from helpers.data import open_dataset
from helpers.dataset import SkeletonDataset
from helpers.splits import Splits, config_splits


def body_shape(keypoint: np.ndarray) -> np.ndarray:
    """keypoint (T, V, 2) -> (V * (V - 1),): per joint pair, the mean and the std over frames of their
    distance divided by the frame's mean pair distance (so the size of the person in the image drops out)."""
    points = keypoint.astype(np.float64)
    distances = np.linalg.norm(points[:, :, None] - points[:, None], axis=-1)    # (T, V, V)
    upper = np.triu_indices(points.shape[1], 1)
    distances = distances[:, upper[0], upper[1]]                                  # (T, P)
    distances = distances / np.maximum(distances.mean(axis=1, keepdims=True), 1e-9)
    return np.concatenate([distances.mean(axis=0), distances.std(axis=0)])


def nearest_distances(queries: np.ndarray, references: np.ndarray) -> np.ndarray:
    """(Q, D), (R, D) -> (Q,) Euclidean distance from each query to its nearest reference."""
    squared = (queries ** 2).sum(1)[:, None] + (references ** 2).sum(1)[None] - 2 * queries @ references.T
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0))


def split_proximity(dataset: SkeletonDataset, splits: Splits) -> dict[str, float]:
    """Median nearest-training-clip distance of the validation and test clips (first person of each clip)."""
    shapes = {side: np.stack([body_shape(dataset.clip(i)["keypoint"][0]) for i in getattr(splits, side)])
              for side in ("train", "val", "test") if getattr(splits, side)}
    return {side: float(np.median(nearest_distances(shapes[side], shapes["train"])))
            for side in ("val", "test") if side in shapes}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.proximity",
        description="Median distance (body shape, no labels) from validation and test clips to their nearest "
                    "training clip, per validation carve-out: smaller validation distances mean the carve-out "
                    "splits clips of one video and validation overrates test.")
    parser.add_argument("--config", required=True, help="recipe YAML naming the data and the carve-out")
    parser.add_argument("--carveouts", default="0,1,2,3,4", help="validation carve-out seeds (data.seed)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_config(args.config)
    dataset = open_dataset(config.data, verbose=False)
    for carveout in parse_list(args.carveouts, "carveouts", int):
        config.data.seed = carveout
        distances = split_proximity(dataset, config_splits(dataset, config.data))
        print(f"carve-out {carveout}: median distance to the nearest training clip: "
              + ", ".join(f"{side} {value:.3f}" for side, value in distances.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
