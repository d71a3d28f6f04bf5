"""Before/after: the speed benchmark's model rows of another git revision, measured in the same run.

    python -m helpers.tools.speed --compare-ref main [--compare-models stgcn] [--compare-threads 1,2]

The revision is checked out into a temporary git worktree and its own
`python -m helpers.tools.speed --measure models` runs there, with the same
parameters (dataset, classes, threads, step budget) as this checkout's.  The two
alternate `rounds` times per thread count, so that both meet the same background
load, and each side's median clips/s is reported with their ratio.  The worktree
is removed afterwards.
"""
from __future__ import annotations

import contextlib
import statistics
import subprocess
import tempfile
from pathlib import Path

from helpers.errors import UserInputError
from helpers.paths import PROJECT_ROOT

ROUNDS = 3


@contextlib.contextmanager
def checkout(ref: str, root: Path = PROJECT_ROOT):
    """A temporary detached git worktree of revision `ref` (removed on exit); yields its path."""
    resolved = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                              capture_output=True, text=True)
    if resolved.returncode != 0:
        raise UserInputError(f"--compare-ref: {ref!r} is not a git revision of {root}")
    commit = resolved.stdout.strip()
    with tempfile.TemporaryDirectory(prefix="speed-reference-") as folder:
        path = Path(folder) / "checkout"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", "--quiet", str(path), commit],
                       check=True, capture_output=True)
        try:
            yield path, commit
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(path)], capture_output=True)


def compare(run, params: dict, ref: str, models: list[str], threads: list[int], rounds: int = ROUNDS,
            progress=print) -> dict:
    """Training and inference clips/s of `models` here and at revision `ref`, per thread count.

    `run(name, params, root=...)` runs one measurement in a fresh process of the checkout at `root`.
    Returns {"ref", "commit", "rounds", "rows": [{model, threads, current, reference, ratio, ...}]}.
    """
    samples: dict[tuple, dict[str, list[dict]]] = {}
    with checkout(ref) as (path, commit):
        for count in threads:
            for index in range(rounds):
                for side, root in (("current", PROJECT_ROOT), ("reference", path)):
                    progress(f"{side} code ({'this checkout' if side == 'current' else ref}), {count} thread(s), "
                             f"round {index + 1}/{rounds}: {', '.join(models)}")
                    result = run("models", {**params, "threads": count, "models": models}, root=root)
                    for name in models:
                        samples.setdefault((name, count), {}).setdefault(side, []).append(result["models"][name])
    rows = []
    for (name, count), sides in samples.items():
        row = {"model": name, "threads": count}
        for side, runs in sides.items():
            row[side] = {"train_clips_per_s": statistics.median(r["train_clips_per_s"] for r in runs),
                         "infer_clips_per_s": statistics.median(r["infer_clips_per_s"] for r in runs),
                         "all_train_clips_per_s": [r["train_clips_per_s"] for r in runs]}
        row["train_ratio"] = row["current"]["train_clips_per_s"] / row["reference"]["train_clips_per_s"]
        row["infer_ratio"] = row["current"]["infer_clips_per_s"] / row["reference"]["infer_clips_per_s"]
        rows.append(row)
    return {"ref": ref, "commit": commit, "rounds": rounds, "rows": rows}


def format_comparison(comparison: dict) -> list[str]:
    """Markdown lines: one row per model and thread count, then each model's best against the reference at 1 thread."""
    lines = [f"Before/after (reference: {comparison['ref']} = {comparison['commit'][:10]}; medians of "
             f"{comparison['rounds']} alternating runs each):", "",
             "| model | threads | train clips/s, reference | train clips/s, this code | ratio | "
             "inference clips/s, reference | this code | ratio |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in comparison["rows"]:
        ref, cur = row["reference"], row["current"]
        lines.append(f"| {row['model']} | {row['threads']} | {ref['train_clips_per_s']:.1f} | "
                     f"{cur['train_clips_per_s']:.1f} | {row['train_ratio']:.2f}x | {ref['infer_clips_per_s']:.0f} | "
                     f"{cur['infer_clips_per_s']:.0f} | {row['infer_ratio']:.2f}x |")
    for name, best, base in best_against_one_thread(comparison):
        lines.append(f"\n{name}: this code at its best thread count ({best['threads']}) trains "
                     f"{best['current']['train_clips_per_s']:.1f} clips/s, "
                     f"{best['current']['train_clips_per_s'] / base['reference']['train_clips_per_s']:.2f}x the "
                     f"reference at 1 thread ({base['reference']['train_clips_per_s']:.1f} clips/s)")
    return lines


def best_against_one_thread(comparison: dict) -> list[tuple[str, dict, dict]]:
    """(model, its row with the fastest current training, its 1-thread row) for models measured at 1 thread."""
    out = []
    for name in dict.fromkeys(row["model"] for row in comparison["rows"]):
        rows = [row for row in comparison["rows"] if row["model"] == name]
        base = [row for row in rows if row["threads"] == 1]
        if base:
            out.append((name, max(rows, key=lambda r: r["current"]["train_clips_per_s"]), base[0]))
    return out
