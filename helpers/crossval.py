"""Command: compare recipes on several validation carve-outs, never on test.

    python -m helpers.crossval --config configs/jhmdb_stgcn_joint.yaml --config configs/jhmdb_stgcn_bone.yaml \
                               --carveouts 0,1,2,3,4 [--set train.epochs=40 ...] [--name NAME]

On small data one validation carve-out is too small to tell recipes apart (87
clips on JHMDB: one clip is 1.1 points).  This command trains the recipe(s) once
per carve-out (`data.seed` = each value of `--carveouts`; `train.seed` fixed), and
scores each carve-out's validation clips with the last checkpoint (the best-val
checkpoint is chosen on those very clips, so its score is biased upwards; it is
reported beside).  Several `--config` are members of a late fusion: their
probabilities are averaged, as `benchmark --fuse` does.  Every carve-out's
validation clips are scored, so the mean covers about `val_fraction * len(train)`
clips per carve-out.  The test split is never read.

Writes `<out>/<name>.json` (default `runs/crossval/`) and one run folder per
carve-out and member.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import yaml

from helpers.benchmark import mean_std
from helpers.checkpoint import load_checkpoint
from helpers.cli import parse_list, run_command
from helpers.config import Config, apply_overrides, load_config
from helpers.data import open_dataset
from helpers.errors import UserInputError
from helpers.evaluation import evaluate
from helpers.io_utils import atomic_write_json
from helpers.paths import runs_dir
from helpers.training import train


def parse_settings(entries: list[str]) -> dict:
    """'section.field=value' entries (value read as YAML) -> {section: {field: value}}."""
    settings: dict = {}
    for entry in entries:
        key, sep, text = entry.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot or not section or not name:
            raise UserInputError(f"--set {entry!r}: expected section.field=value, e.g. train.epochs=40")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise UserInputError(f"--set {entry!r}: the value is not valid YAML") from None
        settings.setdefault(section, {})[name] = value
    return settings


def score_carveout(run_dirs: list[Path], dataset) -> dict:
    """Validation accuracy and macro-F1 of the (fused) last and best checkpoints of one carve-out's members."""
    scores = {}
    for which in ("last", "best"):
        members = [load_checkpoint(run_dir / f"{which}.pt") for run_dir in run_dirs]
        metrics = evaluate(members, dataset, "val", verbose=False)
        scores[which] = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
                         "num_clips": metrics["num_clips"]}
    return scores


def cross_validate(configs: list[Config], carveouts: list[int], out_dir: Path, verbose: bool = True) -> dict:
    """Train every member on every carve-out; returns per-carve-out and mean validation scores."""
    dataset = open_dataset(configs[0].data, verbose)
    results = []
    for carveout in carveouts:
        run_dirs = []
        for index, config in enumerate(configs):
            run_config = copy.deepcopy(config)
            run_config.data.seed = carveout
            run_dir = out_dir / f"carveout{carveout}" / f"member{index}"
            run_config.out_dir = str(run_dir)
            train(run_config, dataset, run_dir, verbose=False)
            run_dirs.append(run_dir)
        scores = score_carveout(run_dirs, dataset)
        results.append({"carveout": carveout, **scores})
        if verbose:
            print(f"carve-out {carveout}: val accuracy {scores['last']['accuracy']:.4f} (last), "
                  f"{scores['best']['accuracy']:.4f} (best-val, biased) on {scores['last']['num_clips']} clips",
                  flush=True)
    summary = {}
    for which in ("last", "best"):
        mean, std = mean_std([result[which]["accuracy"] for result in results])
        summary[which] = {"mean": mean, "std": std}
    return {"carveouts": results, "summary": summary,
            "members": [{**config.to_dict(), "out_dir": None} for config in configs]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.crossval",
        description="Score a recipe (or a late fusion of several) on several validation carve-outs of the "
                    "training split, to choose between recipes without the test split.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  python -m helpers.crossval --config configs/jhmdb_stgcn_joint.yaml "
               "--config configs/jhmdb_stgcn_bone.yaml --carveouts 0,1,2,3,4 --set train.epochs=40")
    parser.add_argument("--config", action="append", required=True,
                        help="recipe YAML; repeat it for the members of a late fusion")
    parser.add_argument("--carveouts", default="0,1,2,3,4", help="validation carve-out seeds (data.seed)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="override a field in every recipe, e.g. augment.rotate_degrees=20 (repeatable)")
    parser.add_argument("--seed", type=int, help="training seed of every run (overrides train.seed)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (overrides train.num_threads)")
    parser.add_argument("--name", default="crossval", help="report name (default crossval)")
    parser.add_argument("--out", help="folder of the report and run folders (default runs/crossval)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    carveouts = parse_list(args.carveouts, "carveouts", int)
    settings = parse_settings(args.set)
    configs = []
    for path in args.config:
        config = apply_overrides(load_config(path), settings, "--set")
        if args.seed is not None:
            config.train.seed = args.seed
        if args.threads is not None:
            config.train.num_threads = args.threads
        if config.data.val_fraction <= 0:
            raise UserInputError(f"{path}: data.val_fraction is 0; carve-outs need validation clips")
        configs.append(config)
    for path, config in zip(args.config[1:], configs[1:]):
        if config.data != configs[0].data:
            raise UserInputError(f"{path}: data settings differ from {args.config[0]}'s; fused members need the "
                                 "same data")
    out_dir = Path(args.out) if args.out else runs_dir() / "crossval"
    report = cross_validate(configs, carveouts, out_dir / args.name)
    report.update(command="python -m helpers.crossval " + " ".join(argv if argv is not None else sys.argv[1:]),
                  config_files=args.config, settings=settings)
    path = atomic_write_json(out_dir / f"{args.name}.json", report)
    last, best = report["summary"]["last"], report["summary"]["best"]
    spread = f" ± {last['std']:.4f}" if last["std"] is not None else ""
    print(f"mean val accuracy over {len(carveouts)} carve-outs: {last['mean']:.4f}{spread} (last checkpoints), "
          f"{best['mean']:.4f} (best-val checkpoints, biased); wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
