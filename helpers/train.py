"""Command: train one model.

    python -m helpers.train [--config DATASET] [--recipe RECIPE] [--set section.field=value ...] [--out DIR]
    python -m helpers.train --config jhmdb --recipe jhmdb_stgcn_joint --set train.epochs=10
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.cli import add_config_arguments, config_from_args, run_command
from helpers.paths import runs_dir
from helpers.training.loop import train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.train",
        description="Train a skeleton action classifier. Writes best.pt (best val macro-F1), last.pt, "
                    "history.csv, config.yaml and splits.json into the run folder.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m helpers.train --recipe improved\n"
               "  python -m helpers.train --config jhmdb --recipe jhmdb_stgcn_joint --out runs/joint")
    add_config_arguments(parser)
    parser.add_argument("--out", help="run folder (default: runs/<model name>)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    train(config, run_dir=Path(args.out) if args.out else runs_dir() / config.model.name)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
