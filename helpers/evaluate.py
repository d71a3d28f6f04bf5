"""Command: evaluate a checkpoint on the test (or validation) split.

    python -m helpers.evaluate [--config DATASET] --ckpt runs/baseline/best.pt [--split test|val]
                               [--device auto|cpu|cuda[:N]]
    python -m helpers.evaluate --ckpt runs/joint/best.pt --ckpt runs/bone/best.pt [--weights 1,1] --out runs/fused

Several `--ckpt` fuse late: their class probabilities are averaged (weighted by
`--weights`), each model reading the clips with its own streams and preprocessing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.training.checkpoint import load_checkpoint
from helpers.cli import add_config_arguments, add_device_argument, config_from_args, parse_list, run_command
from helpers.data.source import open_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import evaluate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.evaluate",
        description="Evaluate a checkpoint: prints accuracy and macro-F1, writes metrics_<split>.json and "
                    "confusion_<split>.png next to the checkpoint (or into --out).")
    parser.add_argument("--ckpt", required=True, action="append",
                        help="checkpoint, e.g. runs/baseline/best.pt; repeat it to fuse several models' scores")
    parser.add_argument("--weights", help="comma-separated fusion weights, one per --ckpt (default: equal)")
    add_config_arguments(parser, recipe_help=False)  # data settings; default: the checkpoint's own
    parser.add_argument("--split", default="test", choices=["test", "val"], help="which clips (default: test)")
    parser.add_argument("--out", help="folder for metrics and figure (default: the checkpoint's folder; "
                                      "required when fusing)")
    add_device_argument(parser, default="auto")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    checkpoints = [load_checkpoint(path) for path in args.ckpt]
    if len(checkpoints) > 1 and not args.out:
        raise UserInputError("--out: give a folder for the fused metrics (several --ckpt given)")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UserInputError(f"--out {args.out}: is a file, not a folder")
    weights = parse_list(args.weights, "weights", float, unique=False) if args.weights else None
    own = checkpoints[0].config
    data_config = config_from_args(args).data if (args.config or args.set or args.data) else own.data
    dataset = open_dataset(data_config)
    metrics = evaluate(checkpoints, dataset, args.split, out_dir=args.out or Path(args.ckpt[0]).parent,
                       weights=weights, device=args.device or "auto")
    print(f"accuracy: {metrics['accuracy']:.4f}")
    print(f"macro-F1: {metrics['macro_f1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
