"""Command: train one model.

    python -m helpers.train --config configs/default.yaml --model baseline|improved [--epochs N]
                            [--dropout P] [--out DIR] [--seed S] [--train-fraction F]
    python -m helpers.train --config configs/default.yaml --recipe configs/recipes/stgcn.yaml
"""
from __future__ import annotations

import argparse
import sys

from helpers.cli import run_command
from helpers.config import apply_overrides, load_config, read_yaml
from helpers.models.registry import MODELS
from helpers.paths import runs_dir
from helpers.training.loop import train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.train",
        description="Train a skeleton action classifier. Writes best.pt (best val macro-F1), last.pt, "
                    "history.csv, config.yaml and splits.json into the run folder.")
    parser.add_argument("--config", help="YAML config (default: built-in defaults on the synthetic dataset)")
    parser.add_argument("--recipe", help="a model's own training recipe laid over the config, e.g. "
                                         "configs/recipes/stgcn.yaml")
    parser.add_argument("--model", choices=sorted(MODELS), help="model to train (overrides model.name)")
    parser.add_argument("--epochs", type=int, help="number of epochs (overrides train.epochs)")
    parser.add_argument("--dropout", type=float, help="dropout before the head (overrides model.dropout)")
    parser.add_argument("--seed", type=int, help="training seed (overrides train.seed)")
    parser.add_argument("--data", help="dataset pickle (overrides data.path)")
    parser.add_argument("--train-fraction", type=float,
                        help="train on about this share of the training clips, validation unchanged "
                             "(learning curves; overrides data.train_fraction)")
    parser.add_argument("--out", help="run folder (default: runs/<model>)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_config(args.config)
    if args.recipe:
        apply_overrides(config, read_yaml(args.recipe), args.recipe)
    if args.model:
        config.model.name = args.model
    if args.epochs is not None:
        config.train.epochs = args.epochs
    if args.dropout is not None:
        config.model.dropout = args.dropout
    if args.seed is not None:
        config.train.seed = args.seed
    if args.data:
        config.data.path = args.data
    if args.train_fraction is not None:
        config.data.train_fraction = args.train_fraction
    config.out_dir = args.out or config.out_dir or str(runs_dir() / config.model.name)
    train(config)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
