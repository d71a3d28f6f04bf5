"""Command: score a (weighted) late fusion from the out-of-fold probabilities of `train --recipe auto`.

    python -m helpers.tools.fuse_folds runs/auto/cv/stgcn runs/auto/cv/classical [--weights 1,2]

Each folder is one candidate of a `--recipe auto` run (`<out>/cv/<recipe>/`) and holds its
`out_of_fold.npz`: class probabilities of every training clip from the fold run that held it
out, the labels and each clip's fold.  The fusion is the weighted mean of those probabilities,
scored by accuracy on each fold, as `--recipe auto` scores equal-weight fusions; nothing is
trained and the test split is never read.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from helpers.cli import parse_list, run_command
from helpers.errors import UserInputError
from helpers.training.auto import fold_accuracies


def load_out_of_fold(folder: str | Path) -> dict[str, np.ndarray]:
    """The arrays of `folder/out_of_fold.npz`: probabilities (N, K), labels (N,), fold (N,), clip_ids (N,)."""
    path = Path(folder) / "out_of_fold.npz"
    if not path.is_file():
        raise UserInputError(f"{path}: not found; it is written by python -m helpers.train --recipe auto "
                             "for each candidate that finished its folds")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in ("probabilities", "labels", "fold", "clip_ids")}


def fused_fold_accuracies(folders: list[str], weights: list[float] | None = None) -> list[float]:
    """Accuracy on each fold of the weighted mean of the candidates' out-of-fold probabilities."""
    members = [load_out_of_fold(folder) for folder in folders]
    weights = [1.0] * len(members) if weights is None else weights
    if len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0:
        raise UserInputError(f"--weights {weights}: give one non-negative weight per folder")
    first = members[0]
    for folder, member in zip(folders[1:], members[1:]):
        if not (np.array_equal(member["clip_ids"], first["clip_ids"]) and np.array_equal(member["fold"], first["fold"])):
            raise UserInputError(f"{folder}: other clips or folds than {folders[0]}; fuse candidates of one run")
    fused = sum(w * m["probabilities"] for w, m in zip(weights, members)) / sum(weights)
    return fold_accuracies(fused, first["labels"], first["fold"], int(first["fold"].max()) + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.tools.fuse_folds",
                                     description="Score a weighted late fusion of --recipe auto candidates from "
                                                 "their out-of-fold probabilities (no training, no test split).")
    parser.add_argument("folders", nargs="+", help="candidate folders <out>/cv/<recipe>/ of a --recipe auto run")
    parser.add_argument("--weights", help="comma-separated fusion weights, one per folder (default: equal)")
    args = parser.parse_args(argv)
    weights = parse_list(args.weights, "weights", float, unique=False) if args.weights else None
    accuracies = fused_fold_accuracies(args.folders, weights)
    spread = f" ± {100 * np.std(accuracies, ddof=1):.1f}" if len(accuracies) > 1 else ""
    print(f"{len(accuracies)}-fold accuracy {100 * np.mean(accuracies):.1f}{spread}% "
          f"(folds: {', '.join(f'{100 * a:.1f}' for a in accuracies)})")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
