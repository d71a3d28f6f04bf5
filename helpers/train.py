"""Command: train one model, or choose a recipe for the data and train that.

    python -m helpers.train [--config DATASET] [--recipe RECIPE] [--set section.field=value ...] [--out DIR]
                            [--device auto|cpu|cuda[:N]]
    python -m helpers.train --config jhmdb --recipe jhmdb_stgcn_joint --set train.epochs=10
    python -m helpers.train ... --resume RUN_DIR                       # continue an interrupted run
    torchrun --nproc_per_node N -m helpers.train ...                    # N processes (DistributedDataParallel)
    python -m helpers.train --data mine.pkl --recipe auto [--budget-minutes M] [--folds K] [--candidates A,B]

`--recipe auto` chooses among recipes and their late fusions by K-fold
cross-validation inside the training split (helpers.training.auto), prints the
table it decided on, then trains the winner on the whole training split.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.cli import add_config_arguments, add_device_argument, config_from_args, parse_list, run_command
from helpers.errors import UserInputError
from helpers.paths import runs_dir
from helpers.data.source import open_dataset
from helpers.training.auto import AUTO_CANDIDATES, choose_recipe, train_choice
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
               "  torchrun --nproc_per_node 2 -m helpers.train --recipe stgcn --out runs/stgcn\n"
               "  python -m helpers.train --data data/mine.pkl --recipe auto --budget-minutes 30")
    add_config_arguments(parser, recipe_help="training recipe: a name under configs/recipes/ (baseline, improved, "
                                             "stgcn, ddnet, classical, ...) or a YAML path; 'auto' chooses one by "
                                             "K-fold cross-validation inside the training split")
    add_device_argument(parser)
    parser.add_argument("--out", help="run folder (default: runs/<model name>; --recipe auto: runs/auto)")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="continue the interrupted run in RUN_DIR from its last.pt; --config, --recipe and "
                             "--set must give the run's own settings (--device and threads may differ)")
    auto = parser.add_argument_group("--recipe auto")
    auto.add_argument("--budget-minutes", type=float, help="time for the cross-validation (default: no limit)")
    auto.add_argument("--folds", type=int, default=5, help="folds K (default 5)")
    auto.add_argument("--candidates", help="comma-separated recipes to choose among, names under configs/recipes/ "
                                           f"or YAML paths (default {','.join(AUTO_CANDIDATES)})")
    auto.add_argument("--max-members", type=int, default=3, help="most members of a late fusion (default 3)")
    auto.add_argument("--reuse", action="store_true",
                      help="do not train again a fold (<out>/cv/<recipe>/fold<K>) or a chosen member (<out>/<recipe>) "
                           "whose folder holds a finished run of the same settings")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.recipe == "auto":
        return auto_main(args)
    config = config_from_args(args)
    if args.resume and args.out and Path(args.out).resolve() != Path(args.resume).resolve():
        raise UserInputError(f"--out {args.out} and --resume {args.resume}: a resumed run stays in its own folder; "
                             "give one of them")
    run_dir = Path(args.resume or args.out or runs_dir() / config.model.name)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserInputError(f"--out {run_dir}: is a file, not a folder")
    train(config, run_dir=run_dir, resume=bool(args.resume))
    return 0


def auto_main(args: argparse.Namespace) -> int:
    """--recipe auto: cross-validate the candidates, print the table, train the winner on the whole split."""
    if args.folds < 2:
        raise UserInputError(f"--folds {args.folds}: K-fold needs at least 2 folds")
    if args.budget_minutes is not None and args.budget_minutes <= 0:
        raise UserInputError(f"--budget-minutes {args.budget_minutes}: give a positive number of minutes")
    names = parse_list(args.candidates, "candidates") if args.candidates else list(AUTO_CANDIDATES)
    candidates = {Path(name).stem: config_from_args(args, name) for name in names}
    if len(candidates) != len(names):
        raise UserInputError(f"--candidates {args.candidates}: two recipes share a name")
    run_dir = Path(args.out) if args.out else runs_dir() / "auto"
    dataset = open_dataset(next(iter(candidates.values())).data)
    budget = None if args.budget_minutes is None else 60.0 * args.budget_minutes
    choice = choose_recipe(candidates, dataset, run_dir / "cv", args.folds, budget, args.max_members,
                           reuse=args.reuse)
    paths = train_choice(choice, candidates, dataset, run_dir, reuse=args.reuse)
    print(f"chosen: {choice['chosen']} ({args.folds}-fold accuracy {100 * choice['mean_accuracy']:.1f}%); "
          f"wrote {run_dir / 'choice.json'}")
    print("evaluate: python -m helpers.evaluate " + " ".join(f"--ckpt {path}" for path in paths)
          + (f" --out {run_dir}" if len(paths) > 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
