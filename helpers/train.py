"""Command: train one model.

    python -m helpers.train [--config DATASET] [--recipe RECIPE] [--set section.field=value ...] [--out DIR]
                            [--device auto|cpu|cuda[:N]]
    python -m helpers.train --config jhmdb --recipe jhmdb_stgcn_joint --set train.epochs=10
    python -m helpers.train ... --resume RUN_DIR                       # continue an interrupted run
    torchrun --nproc_per_node N -m helpers.train ...                    # N processes (DistributedDataParallel)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.cli import add_config_arguments, add_device_argument, config_from_args, run_command
from helpers.errors import UserInputError
from helpers.paths import runs_dir
from helpers.training.loop import train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.train",
        description="Train a skeleton action classifier. Writes best.pt (best val macro-F1), last.pt, "
                    "history.csv, config.yaml, splits.json and, once finished, run.json into the run folder. "
                    "Under torchrun each process trains on its share of the clips (docs/scaling.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m helpers.train --recipe improved\n"
               "  python -m helpers.train --config jhmdb --recipe jhmdb_stgcn_joint --out runs/joint\n"
               "  python -m helpers.train --config jhmdb --recipe jhmdb_stgcn_joint --resume runs/joint\n"
               "  torchrun --nproc_per_node 2 -m helpers.train --recipe stgcn --out runs/stgcn")
    add_config_arguments(parser)
    add_device_argument(parser)
    parser.add_argument("--out", help="run folder (default: runs/<model name>)")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="continue the interrupted run in RUN_DIR from its last.pt; --config, --recipe and "
                             "--set must give the run's own settings (--device and threads may differ)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    if args.resume and args.out and Path(args.out).resolve() != Path(args.resume).resolve():
        raise UserInputError(f"--out {args.out} and --resume {args.resume}: a resumed run stays in its own folder; "
                             "give one of them")
    run_dir = Path(args.resume or args.out or runs_dir() / config.model.name)
    train(config, run_dir=run_dir, resume=bool(args.resume))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
