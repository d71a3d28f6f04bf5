"""Command: how close are validation and test clips to the training clips?  A check of the carve-out.

    python -m helpers.tools.proximity --config jhmdb [--carveouts 0,1,2,3,4]
                                [--val-groups name|body_shape]

A validation carve-out stands in for the test split only if its clips are as new
to the model as test clips are.  When one source video gives several clips (the
same person, camera and body proportions) and a carve-out splits them, validation
clips have near twins in training and validation overrates test.  This command
describes each clip by its body shape (`helpers.data.twins.body_shape`: scale-free
distances between all joint pairs, mean and spread over frames; no labels, no model) and prints,
for each carve-out (`data.seed`), the median distance from a validation clip and
from a test clip to its nearest training clip.  Clearly smaller validation
distances are the sign of such twins; `--val-groups body_shape` shows the
carve-outs that hold body-shape twins out together (`helpers.data.twins`).  Test
labels are never read.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from helpers.cli import add_config_arguments, config_from_args, parse_list, run_command
from helpers.data.source import open_dataset
from helpers.data.dataset import SkeletonDataset
from helpers.data.splits import Splits, config_splits
from helpers.data.twins import clip_shapes, pairwise_distances


def split_proximity(dataset: SkeletonDataset, splits: Splits) -> dict[str, float]:
    """Median nearest-training-clip distance of the validation and test clips (first person of each clip)."""
    shapes = {side: clip_shapes(dataset, getattr(splits, side))
              for side in ("train", "val", "test") if getattr(splits, side)}
    return {side: float(np.median(pairwise_distances(shapes[side], shapes["train"]).min(axis=1)))
            for side in ("val", "test") if side in shapes}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.tools.proximity",
        description="Median distance (body shape, no labels) from validation and test clips to their nearest "
                    "training clip, per validation carve-out: smaller validation distances mean the carve-out "
                    "splits clips of one video and validation overrates test.")
    add_config_arguments(parser)
    parser.add_argument("--carveouts", default="0,1,2,3,4", help="validation carve-out seeds (data.seed)")
    parser.add_argument("--val-groups", choices=["name", "body_shape"],
                        help="how carve-outs are grouped (overrides data.val_groups)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    if args.val_groups:
        config.data.val_groups = args.val_groups
    dataset = open_dataset(config.data, verbose=False)
    for carveout in parse_list(args.carveouts, "carveouts", int):
        config.data.seed = carveout
        distances = split_proximity(dataset, config_splits(dataset, config.data))
        print(f"carve-out {carveout}: median distance to the nearest training clip: "
              + ", ".join(f"{side} {value:.3f}" for side, value in distances.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
