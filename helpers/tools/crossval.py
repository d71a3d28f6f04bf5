"""Command: compare recipes on several validation carve-outs, never on test.

    python -m helpers.tools.crossval --config jhmdb --recipe jhmdb_stgcn_joint --recipe jhmdb_stgcn_bone \
                                     --carveouts 0,1,2,3,4 [--set train.epochs=40 ...] [--name NAME]

On small data one validation carve-out is too small to tell recipes apart (87
clips on JHMDB: one clip is 1.1 points).  This command trains the recipe(s) once
per carve-out (`data.seed` = each value of `--carveouts`; `train.seed` fixed), and
scores each carve-out's validation clips under two rules for the tested epoch
(`train.test_checkpoint`): 'last' (the end of the schedule) and 'best' (the epoch
of best validation macro-F1, as the benchmark's best.pt).  'best' is scored
without bias by two folds: each half of the validation clips is predicted by the
epochs chosen on the other half (so with half the clips to choose on).  Scores
come from the per-epoch validation probabilities that training saves.  Several
`--recipe` are members of a late fusion: their probabilities are averaged, as
`benchmark --fuse` does.  Every carve-out's validation clips are scored, so the
mean covers about `val_fraction * len(train)` clips per carve-out.  The test
split is never read.

Writes `<out>/<name>.json` (default `runs/crossval/`) and one run folder per
carve-out and member.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np

from helpers.tools.benchmark import mean_std
from helpers.cli import (add_config_arguments, add_device_argument, parse_list, refuse_torchrun, run_command,
                         settings_from_args)
from helpers.config import Config, compose_config
from helpers.data.source import open_dataset
from helpers.errors import UserInputError
from helpers.io import atomic_write_json
from helpers.paths import runs_dir
from helpers.training.loop import train
from helpers.training.metrics import classification_metrics, macro_f1
from helpers.training.resume import config_differences
from helpers.training.run_folder import finished_config, load_val_probabilities


def stratified_halves(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N,) bool: a seeded half of each class's clips (rounded up) is True, the rest False."""
    rng = np.random.default_rng(seed)
    first = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        first[members[: (len(members) + 1) // 2]] = True
    return first


def rule_probabilities(members: list[np.ndarray], labels: np.ndarray, rule: str) -> tuple[np.ndarray, list]:
    """Fused validation probabilities (N, K) when each member's tested epoch follows `rule`, and the epochs.

    members: per-epoch probabilities (E, N, K) of each fused member on the same clips.
    'last': every member's last epoch.  'best': the benchmark's rule (each member's
    epoch of best validation macro-F1, earliest on ties), made unbiased by two folds:
    the epochs that score one half of the clips are chosen on the other half.
    Returns the probabilities and the chosen 1-based epochs ([per member] per fold).
    """
    if rule == "last":
        return np.mean([p[-1] for p in members], axis=0), [[len(p) for p in members]]
    num_classes = members[0].shape[-1]
    fused, epochs = np.zeros_like(members[0][0]), []
    first = stratified_halves(labels)
    for scored in (first, ~first):
        chosen = [int(np.argmax([macro_f1(labels[~scored], p[e, ~scored].argmax(-1), num_classes)
                                 for e in range(len(p))])) for p in members]
        fused[scored] = np.mean([p[e, scored] for p, e in zip(members, chosen)], axis=0)
        epochs.append([e + 1 for e in chosen])
    return fused, epochs


def score_carveout(run_dirs: list[Path]) -> dict:
    """Validation accuracy and macro-F1 of one carve-out's (fused) members under the 'last' and 'best' rules,
    from the per-epoch validation probabilities their training saved."""
    saved = [load_val_probabilities(run_dir) for run_dir in run_dirs]
    labels = saved[0][1]
    if any(not np.array_equal(other, labels) for _, other in saved[1:]):
        raise UserInputError(f"{run_dirs[0].parent}: members were validated on different clips")
    members = [probabilities for probabilities, _ in saved]
    scores = {}
    for rule in ("last", "best"):
        fused, epochs = rule_probabilities(members, labels, rule)
        metrics = classification_metrics(labels, fused.argmax(-1), fused.shape[-1])
        scores[rule] = {"accuracy": metrics["acc"], "macro_f1": metrics["f1"], "num_clips": len(labels),
                        "epochs": epochs}
    return scores


def finished_run(run_dir: Path, config: Config) -> bool:
    """Whether `run_dir` holds a finished run (`run.json`, matching its config.yaml) of `config`'s settings:
    every field equal but those that change no weight (`helpers.training.resume.MAY_DIFFER`: device,
    threads, workers, and which checkpoint a benchmark would test)."""
    finished = finished_config(run_dir)
    return finished is not None and not config_differences(finished.to_dict(), config.to_dict())


def cross_validate(configs: list[Config], carveouts: list[int], out_dir: Path, verbose: bool = True,
                   reuse: bool = False) -> dict:
    """Train every member on every carve-out; returns per-carve-out and mean validation scores.

    With `reuse`, a member whose run folder already holds a finished run of the same settings
    (`finished_run`) is scored from it instead of trained again."""
    dataset = open_dataset(configs[0].data, verbose)
    results = []
    for carveout in carveouts:
        run_dirs = []
        for index, config in enumerate(configs):
            run_config = copy.deepcopy(config)
            run_config.data.seed = carveout
            run_dir = out_dir / f"carveout{carveout}" / f"member{index}"
            if reuse and finished_run(run_dir, run_config):
                if verbose:
                    print(f"carve-out {carveout}, member {index}: reusing the finished run in {run_dir}", flush=True)
            else:
                train(run_config, dataset, run_dir, verbose=False)
            run_dirs.append(run_dir)
        scores = score_carveout(run_dirs)
        results.append({"carveout": carveout, **scores})
        if verbose:
            print(f"carve-out {carveout}: val accuracy {scores['last']['accuracy']:.4f} (last epoch), "
                  f"{scores['best']['accuracy']:.4f} (best-val epoch, two folds) on {scores['last']['num_clips']} "
                  "clips", flush=True)
    summary = {}
    for which in ("last", "best"):
        mean, std = mean_std([result[which]["accuracy"] for result in results])
        summary[which] = {"mean": mean, "std": std}
    return {"carveouts": results, "summary": summary,
            "members": [config.to_dict() for config in configs]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.tools.crossval",
        description="Score a recipe (or a late fusion of several) on several validation carve-outs of the "
                    "training split, to choose between recipes without the test split.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  python -m helpers.tools.crossval --config jhmdb --recipe jhmdb_stgcn_joint "
               "--recipe jhmdb_stgcn_bone --carveouts 0,1,2,3,4 --set train.epochs=40")
    add_config_arguments(parser, recipe_help=False)
    parser.add_argument("--recipe", action="append", required=True,
                        help="recipe (name under configs/recipes/ or YAML path); repeat it for the members of a "
                             "late fusion")
    parser.add_argument("--carveouts", default="0,1,2,3,4", help="validation carve-out seeds (data.seed)")
    add_device_argument(parser)
    parser.add_argument("--name", default="crossval", help="report name (default crossval)")
    parser.add_argument("--reuse", action="store_true",
                        help="score members whose run folder (<out>/<name>/carveoutK/memberI) already holds a "
                             "finished run of the same settings instead of training them again")
    parser.add_argument("--out", help="folder of the report and run folders (default runs/crossval)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    refuse_torchrun("helpers.tools.crossval")
    carveouts = parse_list(args.carveouts, "carveouts", int)
    settings = settings_from_args(args)
    configs = []
    for recipe in args.recipe:
        config = compose_config(args.config, recipe, settings)
        if config.data.val_fraction <= 0:
            raise UserInputError(f"{recipe}: data.val_fraction is 0; carve-outs need validation clips")
        configs.append(config)
    for recipe, config in zip(args.recipe[1:], configs[1:]):
        if config.data != configs[0].data:
            raise UserInputError(f"{recipe}: data settings differ from {args.recipe[0]}'s; fused members need the "
                                 "same data")
    out_dir = Path(args.out) if args.out else runs_dir() / "crossval"
    report = cross_validate(configs, carveouts, out_dir / args.name, reuse=args.reuse)
    report.update(command="python -m helpers.tools.crossval " + " ".join(argv if argv is not None else sys.argv[1:]),
                  dataset_file=args.config, recipes=args.recipe, settings=settings)
    path = atomic_write_json(out_dir / f"{args.name}.json", report)
    last, best = report["summary"]["last"], report["summary"]["best"]
    spread = f" ± {last['std']:.4f}" if last["std"] is not None else ""
    print(f"mean val accuracy over {len(carveouts)} carve-outs: {last['mean']:.4f}{spread} (last epoch), "
          f"{best['mean']:.4f} (best-val epoch, two folds); wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
