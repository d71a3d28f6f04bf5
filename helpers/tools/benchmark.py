"""Command: an honest comparison of models over several seeds on one dataset split.

    python -m helpers.tools.benchmark [--config DATASET] --models baseline,improved --seeds 0,1,2
                                      [--recipe [ENTRY=]RECIPE ...] [--set section.field=value ...] [--name NAME]

Protocol: for each model and seed, train on train<split> minus a validation
carve-out (`data.val_fraction` of train<split>, by group or stratified, drawn with
`data.seed`, the same for every model and seed); `train()` keeps the epoch with
the best validation macro-F1 (`best.pt`) and the last epoch (`last.pt`); the one
named by the recipe's `train.test_checkpoint` (default best) is evaluated once on
test<split>.  The test split selects nothing.

Settings: `--config DATASET` names the data (configs/<dataset>.yaml); `--recipe
RECIPE` is the recipe of every entry, `--recipe ENTRY=RECIPE` (may be repeated)
gives one entry its own (optimizer, schedule, augmentation, streams,
preprocessing: any field of helpers.config.Config); `--set` overrides every entry.
The data section must agree across entries; `model.name` (for entries named
after a model) and `train.seed` are set by the benchmark.

Entries: an entry of `--models` is a model of helpers.models.registry.MODELS, or any other
name given its own recipe (`--recipe NAME=RECIPE`) whose `model.name` is a model, so
one model class can run with several recipes (e.g. ST-GCN on joints and on bones).
`--fuse NAME=A+B` adds a late-fusion entry: per seed, the class probabilities of the
tested checkpoints of entries A and B are averaged and evaluated once on test;
its train time and parameters are the sums of its members'.

K-fold (`--folds K`): train<split> is cut into K folds (`helpers.data.splits.kfold`:
stratified by class, whole groups where ids carry them; `data.folds`/`data.fold`);
each fold in turn is the held-out set that stands in for test, and validation is
carved out of the other folds as above.  test<split> is never read; the table
gives mean ± std over every fold (and seed).

Writes `<out>/<name>.json` and `<out>/<name>.md` (rewritten after every run, so a
long benchmark can be watched) and one run folder per model and seed under
`<out>/<name>/<model>/seed<S>/`.  `<out>` defaults to runs/benchmark.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import yaml

from helpers.training.checkpoint import load_checkpoint
from helpers.cli import (add_config_arguments, add_device_argument, parse_list, refuse_torchrun, run_command,
                         settings_from_args)
from helpers.config import Config, apply_overrides, compose_config
from helpers.data.source import open_dataset
from helpers.data.dataset import SkeletonDataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import evaluate
from helpers.io import atomic_write_json, atomic_write_text
from helpers.models.registry import MODELS, count_parameters
from helpers.paths import runs_dir
from helpers.evaluation.timing import environment, inference_latency_ms, inference_throughput
from helpers.training.device import pick_device
from helpers.training.loop import train

METRICS = ("test_accuracy", "test_macro_f1", "val_macro_f1", "train_seconds", "parameters",
           "clips_per_s_b64", "ms_per_clip_b1")


def model_configs(models: list[str], dataset: str | None, recipe_args: list[str],
                  settings: dict | None = None) -> dict[str, Config]:
    """One Config per entry: the dataset file, then its own `ENTRY=RECIPE`, else the shared `RECIPE`,
    then the `--set` settings, which override every recipe."""
    shared, own = None, {}
    for entry in recipe_args:
        match = re.fullmatch(r"([A-Za-z0-9_]+)=(.+)", entry)
        if match:
            name, recipe = match.groups()
            if name not in models:
                raise UserInputError(f"--recipe {entry}: entry {name!r} is not in --models ({', '.join(models)})")
            if name in own:
                raise UserInputError(f"--recipe: two recipes for entry {name!r}")
            own[name] = recipe
        elif shared is not None:
            raise UserInputError("--recipe: give one shared RECIPE; per-entry recipes are ENTRY=RECIPE")
        else:
            shared = entry
    configs = {}
    for name in models:
        if name not in MODELS and name not in own:
            raise UserInputError(f"--models: unknown model {name!r}; known models: {', '.join(MODELS)} "
                                 f"(another name needs its own recipe, --recipe {name}=RECIPE, naming model.name)")
        config = compose_config(dataset, own.get(name, shared))
        if name in MODELS:
            config.model.name = name
        elif config.model.name not in MODELS:
            raise UserInputError(f"--recipe {name}={own[name]}: model.name {config.model.name!r} is not a known "
                                 f"model ({', '.join(MODELS)})")
        configs[name] = apply_overrides(config, settings or {}, "--set")
    first = models[0]
    for name in models[1:]:
        if configs[name].data != configs[first].data:
            raise UserInputError(f"--recipe: entries {first!r} and {name!r} have different data settings "
                                 f"({configs[first].data} vs {configs[name].data}); a benchmark compares "
                                 "models on the same data")
    return configs


def check_no_leak(run_dir: Path) -> dict:
    """The run's splits.json, after checking that no test clip is in train or val."""
    splits = json.loads((run_dir / "splits.json").read_text())
    leaked = set(splits["test"]) & (set(splits["train"]) | set(splits["val"]))
    if leaked:
        raise RuntimeError(f"{run_dir}: {len(leaked)} test clips are also in train/val, e.g. {sorted(leaked)[0]}")
    return splits


def refit_config(config: Config, run_dir: Path) -> Config:
    """The same recipe trained on all of train<split>: no validation clips, so the last epoch is kept."""
    refit = copy.deepcopy(config)
    refit.data.val_fraction = 0.0
    return refit


def tested_checkpoint(config: Config) -> str:
    """File name of the checkpoint a run is tested with: best.pt or last.pt (`train.test_checkpoint`)."""
    rule = config.train.test_checkpoint
    if rule not in ("best", "last"):
        raise UserInputError(f"train.test_checkpoint: {rule!r} is not a checkpoint; use best (best validation "
                             "macro-F1) or last (end of the schedule)")
    return f"{rule}.pt"


def run_one(config: Config, dataset: SkeletonDataset, run_dir: Path, timing_seconds: float = 2.0,
            refit: bool = False) -> dict:
    """Train one model and seed, evaluate the final checkpoint once on test, time its inference.

    Without `refit` the final checkpoint is `tested_checkpoint(config)`.  With `refit`, that
    validation run only reports its scores (it selected the recipe and schedule),
    and the recipe is trained again on all of train<split> for its full schedule in
    `run_dir/refit`; that run's last checkpoint is the one tested and timed.
    """
    selected_path = run_dir / tested_checkpoint(config)   # the checkpoint scored on val
    start = time.perf_counter()
    history = train(config, dataset, run_dir, verbose=False)
    train_seconds = time.perf_counter() - start
    splits = check_no_leak(run_dir)
    checkpoint = load_checkpoint(selected_path)
    selected = history[checkpoint.state["epoch"] - 1]
    final_dir, tested_path, selection_seconds = run_dir, selected_path, None
    if refit:
        final_dir, selection_seconds = run_dir / "refit", train_seconds
        start = time.perf_counter()
        train(refit_config(config, final_dir), dataset, final_dir, verbose=False)
        train_seconds = time.perf_counter() - start
        check_no_leak(final_dir)
        tested_path = final_dir / "best.pt"                         # the last epoch: no validation clips
        checkpoint = load_checkpoint(tested_path)
    metrics = evaluate(checkpoint, dataset, "test", verbose=False)   # the only use of test
    atomic_write_json(final_dir / "metrics_test.json", metrics)
    clip_shape = (checkpoint.state["in_channels"], config.preprocess.length, dataset.layout.num_joints,
                  config.preprocess.max_persons)                    # (C, T, V, M)
    device = pick_device(config.train.device)
    return {
        "seed": config.train.seed,
        "run_dir": str(run_dir),
        "final_dir": str(final_dir),
        "selected_checkpoint": str(selected_path),   # scored on val
        "tested_checkpoint": str(tested_path),       # scored on test
        "epochs": len(history),
        "selected_epoch": selected["epoch"],   # of the checkpoint scored on val
        "val_accuracy": selected["val_acc"],
        "val_macro_f1": selected["val_f1"],
        "test_accuracy": metrics["accuracy"],
        "test_macro_f1": metrics["macro_f1"],
        "num_train": len(splits["train"]), "num_val": len(splits["val"]), "num_test": len(splits["test"]),
        "train_seconds": train_seconds,
        "selection_seconds": selection_seconds,
        "parameters": count_parameters(checkpoint.model),
        "clips_per_s_b64": inference_throughput(checkpoint.model, clip_shape, 64, timing_seconds, device=device),
        "ms_per_clip_b1": inference_latency_ms(checkpoint.model, clip_shape, device=device),
        "timing_device": str(device),
        "torch_threads": torch.get_num_threads(),
        "protocol": splits["protocol"],
    }


def parse_fusions(entries: list[str], models: list[str]) -> dict[str, list[str]]:
    """'NAME=A+B[+C]' entries -> {NAME: [A, B, ...]}; members must be entries of --models."""
    fusions = {}
    for entry in entries:
        match = re.fullmatch(r"([A-Za-z0-9_]+)=([A-Za-z0-9_]+(?:\+[A-Za-z0-9_]+)+)", entry)
        if not match:
            raise UserInputError(f"--fuse {entry!r}: expected NAME=A+B (two or more entries of --models)")
        name, members = match.group(1), match.group(2).split("+")
        missing = [m for m in members if m not in models]
        if missing:
            raise UserInputError(f"--fuse {entry}: {missing[0]!r} is not in --models ({', '.join(models)})")
        if len(set(members)) != len(members):
            raise UserInputError(f"--fuse {entry}: names a member twice")
        if name in models or name in fusions:
            raise UserInputError(f"--fuse {entry}: the name {name!r} is already taken")
        fusions[name] = members
    return fusions


def run_fusion(member_runs: list[dict], dataset: SkeletonDataset) -> dict:
    """Late fusion of one seed's member runs: fused val metrics, then the one test evaluation."""
    selected = [load_checkpoint(run["selected_checkpoint"]) for run in member_runs]
    val = evaluate(selected, dataset, "val", verbose=False)
    final = [load_checkpoint(run["tested_checkpoint"]) for run in member_runs]
    metrics = evaluate(final, dataset, "test", verbose=False)   # the only use of test
    first = member_runs[0]
    return {
        "seed": first["seed"],
        "members": [run["final_dir"] for run in member_runs],
        "final_dir": None, "run_dir": None,
        "epochs": first["epochs"], "selected_epoch": first["selected_epoch"],   # the first member's, for the table
        "val_accuracy": val["accuracy"], "val_macro_f1": val["macro_f1"],
        "test_accuracy": metrics["accuracy"], "test_macro_f1": metrics["macro_f1"],
        "num_train": first["num_train"], "num_val": first["num_val"], "num_test": first["num_test"],
        "train_seconds": sum(run["train_seconds"] for run in member_runs),
        "selection_seconds": None if first["selection_seconds"] is None
        else sum(run["selection_seconds"] for run in member_runs),
        "parameters": sum(run["parameters"] for run in member_runs),
        # every member's forward pass runs on each clip: throughputs add as rates, latencies add up
        "clips_per_s_b64": 1.0 / sum(1.0 / run["clips_per_s_b64"] for run in member_runs),
        "ms_per_clip_b1": sum(run["ms_per_clip_b1"] for run in member_runs),
        "timing_device": first["timing_device"], "torch_threads": first["torch_threads"],
        "protocol": first["protocol"],
    }


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (n - 1); the deviation is None for a single value."""
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else None)


def summarize(runs: list[dict]) -> dict:
    summary = {}
    for key in METRICS:
        mean, std = mean_std([run[key] for run in runs])
        summary[key] = {"mean": mean, "std": std, "n": len(runs)}
    return summary


def _cell(stat: dict, scale: float = 1.0, digits: int = 1) -> str:
    text = f"{stat['mean'] * scale:.{digits}f}"
    return text if stat["std"] is None else f"{text} ± {stat['std'] * scale:.{digits}f}"


def render_markdown(report: dict) -> str:
    """The report as markdown: summary table, per-seed table, protocol, command, configs, environment."""
    folds = report.get("folds") or 0
    tested = "held-out fold" if folds else "test"
    lines = [f"# Benchmark: {report['name']}", ""]
    if not report["complete"]:
        lines += ["**Incomplete: runs still to come.**", ""]
    data = report["data"]
    lines += [f"Data: `{data['path']}` split {data['split']} ({data['num_clips']} clips, {data['num_classes']} "
              f"classes, layout {data['layout']}); seeds {', '.join(map(str, report['seeds']))}"
              + (f"; {folds} folds of train{data['split']}" if folds else "") + ".", "",
              (f"## Held-out fold results (mean ± sample std over {folds} folds"
               + (" and seeds)" if len(report["seeds"]) > 1 else ")") if folds
               else "## Test results (mean ± sample std over seeds)"), "",
              f"| model | {tested} accuracy (%) | {tested} macro-F1 (%) | val macro-F1 (%) | train time (s) "
              "| parameters | clips/s (batch 64) | ms/clip (batch 1) |",
              "|---|---|---|---|---|---|---|---|"]
    for name, entry in report["models"].items():
        if not entry["runs"]:
            continue
        s = entry["summary"]
        lines.append(f"| {name} | {_cell(s['test_accuracy'], 100)} | {_cell(s['test_macro_f1'], 100)} "
                     f"| {_cell(s['val_macro_f1'], 100)} | {_cell(s['train_seconds'], 1, 0)} "
                     f"| {int(s['parameters']['mean']):,} | {_cell(s['clips_per_s_b64'], 1, 0)} "
                     f"| {_cell(s['ms_per_clip_b1'], 1, 2)} |")
    lines += ["", "## Per fold and seed" if folds else "## Per seed", "",
              f"| model | {'fold | ' if folds else ''}seed | val epoch | val macro-F1 (%) | {tested} accuracy (%) "
              f"| {tested} macro-F1 (%) | train time (s) | clips/s (batch 64) | ms/clip (batch 1) |",
              "|---|---|---|---|---|---|---|---|---|" + ("---|" if folds else "")]
    for name, entry in report["models"].items():
        for run in entry["runs"]:
            fold = f"{run['fold']} | " if folds else ""
            lines.append(f"| {name} | {fold}{run['seed']} | {run['selected_epoch']}/{run['epochs']} "
                         f"| {100 * run['val_macro_f1']:.1f} | {100 * run['test_accuracy']:.1f} "
                         f"| {100 * run['test_macro_f1']:.1f} | {run['train_seconds']:.0f} "
                         f"| {run['clips_per_s_b64']:.0f} | {run['ms_per_clip_b1']:.2f} |")
    lines += ["", "## Protocol", "", report["protocol"], "", "## Command", "", "```", report["command"], "```", "",
              "## Recipes", "", "`train.seed` is set per run; everything else is as below.", ""]
    for name, entry in report["models"].items():
        if entry.get("fusion_of"):
            lines += [f"### {name}", "", f"Late fusion (mean of class probabilities) of "
                      f"{' + '.join(entry['fusion_of'])}, seed by seed; val macro-F1 is the fused score's, "
                      "train time and parameters are the members' sums.", ""]
            continue
        lines += [f"### {name}", "", "```yaml", yaml.safe_dump(entry["config"], sort_keys=False).strip(), "```", ""]
    env_start, env_end = report["environment"], report.get("environment_end") or {}
    lines += ["## Environment", ""]
    lines += [f"- {key}: {value}" for key, value in env_start.items() if key != "load_average_1_5_15min"]
    threads = sorted({run["torch_threads"] for entry in report["models"].values() for run in entry["runs"]})
    lines += [f"- torch threads used by the runs (training and timing): {', '.join(map(str, threads))}"]
    lines += [f"- load average (1, 5, 15 min) at start: {env_start.get('load_average_1_5_15min')}, "
              f"at end: {env_end.get('load_average_1_5_15min')}",
              "- timings are wall-clock on this machine: train time includes preprocessing and per-epoch "
              "validation; inference is the model's forward pass only, on random input, after warm-up", ""]
    return "\n".join(lines)


_PROTOCOL_COMMON = ("The test split selects nothing (no epoch, no recipe, no seed). The carve-out is the same for "
                    "every model and seed (data.seed); seeds change initialisation, shuffling and augmentation. "
                    "Each run checks that no test clip is in its train or val clips.")
PROTOCOL = ("For each model and seed: train on train{split} minus a validation carve-out ({val}); keep the "
            "epoch with the best validation macro-F1 (best.pt), or the last epoch (last.pt) where the recipe says "
            "train.test_checkpoint: last; evaluate that checkpoint once on test{split} ({num_test} clips). "
            + _PROTOCOL_COMMON)


FOLDS_PROTOCOL = ("K-fold inside train{split}: it is cut into {folds} folds (stratified by class, whole groups "
                  "where ids carry them); each fold in turn is held out and stands in for the test split, and "
                  "every other step is as follows, with the other folds as the training split. test{split} is "
                  "never read. ")


REFIT_PROTOCOL = ("For each model and seed: train on train{split} minus a validation carve-out ({val}); this "
                  "run's best validation macro-F1 is reported and is what recipes were chosen on. Then the same "
                  "recipe is trained again on all of train{split} for its full schedule (no validation clips) and "
                  "its last checkpoint is evaluated once on test{split} ({num_test} clips); train time is that "
                  "refit's. " + _PROTOCOL_COMMON)


def write_report(report: dict, out_dir: Path) -> tuple[Path, Path]:
    json_path = atomic_write_json(out_dir / f"{report['name']}.json", report)
    md_path = atomic_write_text(out_dir / f"{report['name']}.md", render_markdown(report))
    return json_path, md_path


def run_benchmark(configs: dict[str, Config], seeds: list[int], name: str, out_dir: str | Path | None = None,
                  command: str = "", timing_seconds: float = 2.0, verbose: bool = True,
                  fusions: dict[str, list[str]] | None = None, refit: bool = False, folds: int = 0) -> dict:
    """Train, select on val and test once, for every model and seed, then fuse the `fusions` entries
    ({name: member entries}) seed by seed; with `refit`, the tested models are retrained on all of
    train<split> (`run_one`).  With `folds` K > 0, every model and seed runs once per fold of train<split>
    (`data.folds`, `data.fold`), the held-out fold standing in for test.  Returns the report written."""
    fusions = fusions or {}
    out_dir = Path(out_dir) if out_dir is not None else runs_dir() / "benchmark"
    first = next(iter(configs.values()))
    dataset = open_dataset(first.data, verbose)
    if first.train.num_threads:
        torch.set_num_threads(first.train.num_threads)   # before environment() records it
    report = {
        "name": name, "command": command, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": False, "seeds": seeds, "refit": refit, "folds": folds,
        "data": {"path": str(dataset.source), "split": first.data.split, "classes": first.data.classes,
                 "val_fraction": first.data.val_fraction, "val_seed": first.data.seed,
                 "val_groups": first.data.val_groups, "train_fraction": first.data.train_fraction,
                 "num_clips": len(dataset.annotations), "num_classes": dataset.num_classes,
                 "layout": dataset.layout.name},
        "protocol": "", "environment": environment(),
        "models": {model: {"config": config.to_dict(), "runs": [], "summary": {}}
                   for model, config in configs.items()},
    }
    for fusion, members in fusions.items():
        report["models"][fusion] = {"fusion_of": members, "config": None, "runs": [], "summary": {}}
    runs = [(fold, seed) for fold in (range(folds) if folds else [None]) for seed in seeds]
    for model, config in configs.items():
        for fold, seed in runs:
            run_config = copy.deepcopy(config)
            run_config.train.seed = seed
            run_dir = out_dir / name / model / ("" if fold is None else f"fold{fold}") / f"seed{seed}"
            if fold is not None:
                run_config.data.folds, run_config.data.fold = folds, fold
            run = {"fold": fold, **run_one(run_config, dataset, run_dir, timing_seconds, refit)}
            entry = report["models"][model]
            entry["runs"].append(run)
            entry["summary"] = summarize(entry["runs"])
            protocol = (FOLDS_PROTOCOL if folds else "") + (REFIT_PROTOCOL if refit else PROTOCOL)
            report["protocol"] = protocol.format(split=first.data.split, num_test=run["num_test"],
                                                 val=run["protocol"], folds=folds)
            report["environment_end"] = environment()
            write_report(report, out_dir)
            if verbose:
                print(f"{model} {'' if fold is None else f'fold {fold} '}seed {seed}: val epoch {run['selected_epoch']}/{run['epochs']} "
                      f"val F1 {run['val_macro_f1']:.3f} | test acc {run['test_accuracy']:.3f} "
                      f"F1 {run['test_macro_f1']:.3f} | {run['train_seconds']:.0f} s", flush=True)
    for fusion, members in fusions.items():
        entry = report["models"][fusion]
        for index, (fold, seed) in enumerate(runs):
            run = {"fold": fold,
                   **run_fusion([report["models"][member]["runs"][index] for member in members], dataset)}
            entry["runs"].append(run)
            entry["summary"] = summarize(entry["runs"])
            write_report(report, out_dir)
            if verbose:
                print(f"{fusion} {'' if fold is None else f'fold {fold} '}seed {seed}: fused val F1 {run['val_macro_f1']:.3f} | test acc "
                      f"{run['test_accuracy']:.3f} F1 {run['test_macro_f1']:.3f} | {run['train_seconds']:.0f} s "
                      f"(members together)", flush=True)
    report["complete"] = True
    json_path, md_path = write_report(report, out_dir)
    if verbose:
        print(f"wrote {json_path} and {md_path}")
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.tools.benchmark",
        description="Compare models over seeds: train with validation carved out of the training split, keep "
                    "the best-validation-macro-F1 checkpoint, evaluate it once on test. Writes "
                    "runs/benchmark/<name>.json and .md (a table with mean ± std) and one run folder per run.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  python -m helpers.tools.benchmark --config jhmdb --models baseline,improved "
               "--seeds 0,1,2 --recipe jhmdb_lstm --name jhmdb_lstm")
    add_config_arguments(parser, recipe_help=False)
    parser.add_argument("--models", default="baseline,improved",
                        help=f"comma-separated entries: models of {', '.join(MODELS)}, or other names with their own "
                             "--recipe NAME=RECIPE (default baseline,improved)")
    parser.add_argument("--seeds", help="comma-separated training seeds (default 0,1,2; with --folds 0)")
    parser.add_argument("--recipe", action="append", default=[], metavar="[ENTRY=]RECIPE",
                        help="recipe (name under configs/recipes/ or YAML path): RECIPE for every entry, "
                             "ENTRY=RECIPE for one (repeatable)")
    parser.add_argument("--fuse", action="append", default=[], metavar="NAME=A+B",
                        help="late-fusion entry: average the scores of entries A, B, ... seed by seed (repeatable)")
    parser.add_argument("--refit", action="store_true",
                        help="after each validation run, train the recipe again on all of train<N> and test "
                             "that run's last checkpoint (the validation run only reports)")
    parser.add_argument("--folds", type=int, default=0, metavar="K",
                        help="K-fold inside train<N> (stratified by class, whole groups where ids carry them): "
                             "each fold is held out in turn instead of test<N>, which is never read")
    parser.add_argument("--name", help="report name (default <data file stem>_split<N>)")
    add_device_argument(parser, default="each recipe's train.device, auto")
    parser.add_argument("--out", help="folder of reports and run folders (default runs/benchmark)")
    parser.add_argument("--timing-seconds", type=float, default=2.0,
                        help="seconds spent measuring throughput per run (default 2)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    refuse_torchrun("helpers.tools.benchmark")
    models = parse_list(args.models, "models")
    seeds = parse_list(args.seeds or ("0" if args.folds else "0,1,2"), "seeds", int)
    if args.folds == 1 or args.folds < 0:
        raise UserInputError(f"--folds {args.folds}: K-fold needs at least 2 folds")
    configs = model_configs(models, args.config, args.recipe, settings_from_args(args))
    fusions = parse_fusions(args.fuse, models)
    first = configs[models[0]].data
    name = args.name or (f"{Path(first.path).stem if first.path else 'synthetic'}_split{first.split}"
                         + (f"_{args.folds}fold" if args.folds else ""))
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise UserInputError(f"--name {name!r}: use letters, digits, '_', '-' and '.' only")
    command = "python -m helpers.tools.benchmark " + shlex.join(argv)
    run_benchmark(configs, seeds, name, args.out, command, args.timing_seconds, fusions=fusions,
                  refit=args.refit, folds=args.folds)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
