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


SIDES = {"current": "this code", "current_bf16": "this code, train.cpu_bf16", "reference": "reference"}


def compare(run, params: dict, ref: str, models: list[str], threads: list[int], rounds: int = ROUNDS,
            progress=print, cpu_bf16: bool = False) -> dict:
    """Training and inference clips/s of `models` here and at revision `ref`, per thread count.

    `run(name, params, root=...)` runs one measurement in a fresh process of the checkout at `root`.
    With `cpu_bf16` this code is also measured under bfloat16 autocast (side "current_bf16").
    Returns {"ref", "commit", "rounds", "rows": [{model, threads, current, reference, ratio, ...}]}.
    """
    sides = [("current", PROJECT_ROOT, {}), ("reference", None, {})]
    if cpu_bf16:
        sides.insert(1, ("current_bf16", PROJECT_ROOT, {"cpu_bf16": True}))
    samples: dict[tuple, dict[str, list[dict]]] = {}
    with checkout(ref) as (path, commit):
        for count in threads:
            for index in range(rounds):
                for side, root, extra in sides:
                    progress(f"{SIDES[side]} ({'this checkout' if root else ref}), {count} thread(s), "
                             f"round {index + 1}/{rounds}: {', '.join(models)}")
                    result = run("models", {**params, **extra, "threads": count, "models": models},
                                 root=root or path)
                    for name in models:
                        samples.setdefault((name, count), {}).setdefault(side, []).append(result["models"][name])
    rows = []
    for (name, count), measured in samples.items():
        row = {"model": name, "threads": count}
        for side, runs in measured.items():
            row[side] = {"train_clips_per_s": statistics.median(r["train_clips_per_s"] for r in runs),
                         "infer_clips_per_s": statistics.median(r["infer_clips_per_s"] for r in runs),
                         "all_train_clips_per_s": [r["train_clips_per_s"] for r in runs]}
        for side in measured:
            if side != "reference":
                suffix = side.removeprefix("current")
                row[f"train_ratio{suffix}"] = row[side]["train_clips_per_s"] / row["reference"]["train_clips_per_s"]
                row[f"infer_ratio{suffix}"] = row[side]["infer_clips_per_s"] / row["reference"]["infer_clips_per_s"]
        rows.append(row)
    return {"ref": ref, "commit": commit, "rounds": rounds, "rows": rows}


def format_comparison(comparison: dict) -> list[str]:
    """Markdown lines: one row per model, thread count and side of this code, then each model's best against the
    reference's best."""
    lines = [f"Before/after (reference: {comparison['ref']} = {comparison['commit'][:10]}; medians of "
             f"{comparison['rounds']} alternating runs each):", "",
             "| model | threads | this code | train clips/s, reference | train clips/s, this code | ratio | "
             "inference clips/s, reference | this code | ratio |", "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in comparison["rows"]:
        ref = row["reference"]
        for side in ("current", "current_bf16"):
            if side not in row:
                continue
            cur, suffix = row[side], side.removeprefix("current")
            precision = "bfloat16 autocast" if suffix else "float32"
            lines.append(f"| {row['model']} | {row['threads']} | {precision} | {ref['train_clips_per_s']:.1f} | "
                         f"{cur['train_clips_per_s']:.1f} | {row['train_ratio' + suffix]:.2f}x | "
                         f"{ref['infer_clips_per_s']:.0f} | {cur['infer_clips_per_s']:.0f} | "
                         f"{row['infer_ratio' + suffix]:.2f}x |")
    for name, current, reference in best_against_best(comparison):
        lines.append(f"\n{name}: this code at its best ({current['threads']} thread(s), {SIDES[current['side']]}) "
                     f"trains {current['clips_per_s']:.1f} clips/s, "
                     f"{current['clips_per_s'] / reference['clips_per_s']:.2f}x the reference at its best "
                     f"({reference['threads']} thread(s), {reference['clips_per_s']:.1f} clips/s)")
    return lines


def best_against_best(comparison: dict) -> list[tuple[str, dict, dict]]:
    """(model, this code's fastest training, the reference's fastest training) per model, each as
    {"clips_per_s", "threads", "side"}: the fastest over thread counts and (for this code) precisions."""
    out = []
    for name in dict.fromkeys(row["model"] for row in comparison["rows"]):
        rows = [row for row in comparison["rows"] if row["model"] == name]
        options = {"current": [], "reference": []}
        for row in rows:
            for side in SIDES:
                if side in row:
                    options["reference" if side == "reference" else "current"].append(
                        {"clips_per_s": row[side]["train_clips_per_s"], "threads": row["threads"], "side": side})
        out.append((name, max(options["current"], key=lambda o: o["clips_per_s"]),
                    max(options["reference"], key=lambda o: o["clips_per_s"])))
    return out
