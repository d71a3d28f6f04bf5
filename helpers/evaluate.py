"""Command: evaluate a checkpoint on the test (or validation) split.

    python -m helpers.evaluate --config configs/default.yaml --ckpt runs/baseline/best.pt [--split test|val]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.checkpoint import load_checkpoint
from helpers.cli import run_command
from helpers.config import load_config
from helpers.data import open_dataset
from helpers.evaluation import evaluate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.evaluate",
        description="Evaluate a checkpoint: prints accuracy and macro-F1, writes metrics_<split>.json and "
                    "confusion_<split>.png next to the checkpoint (or into --out).")
    parser.add_argument("--ckpt", required=True, help="checkpoint, e.g. runs/baseline/best.pt")
    parser.add_argument("--config", help="YAML config naming the data (default: the checkpoint's own data settings)")
    parser.add_argument("--split", default="test", choices=["test", "val"], help="which clips (default: test)")
    parser.add_argument("--out", help="folder for metrics and figure (default: the checkpoint's folder)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    checkpoint = load_checkpoint(args.ckpt)
    data_config = load_config(args.config).data if args.config else checkpoint.config.data
    dataset = open_dataset(data_config)
    metrics = evaluate(checkpoint, dataset, args.split, out_dir=args.out or Path(args.ckpt).parent)
    print(f"accuracy: {metrics['accuracy']:.4f}")
    print(f"macro-F1: {metrics['macro_f1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
