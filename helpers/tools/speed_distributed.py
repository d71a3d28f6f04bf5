"""The train command's epoch speed in one process and in two CPU processes under torchrun.

Both run `python -m helpers.train` on the benchmark's class subset for EPOCHS
epochs and read the last epoch's seconds from its `history.csv` (training steps
plus the validation pass, so the two rows compare like with like).  The torchrun
row runs `torchrun --standalone --nproc_per_node 2` with one thread per process
(gloo on CPU) and is reported as not available while this checkout's training
has no torchrun support (no `helpers.training.distributed`).
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.paths import PROJECT_ROOT

EPOCHS = 2  # the first epoch carries start-up costs; the last one is reported
PROCESSES = 2


def torchrun_available() -> bool:
    """Whether helpers.train can run under torchrun in this checkout."""
    return importlib.util.find_spec("helpers.training.distributed") is not None


def _train_command(params: dict, model: str, threads: int, out: Path) -> list[str]:
    settings = [f"data.classes={json.dumps(params['classes'])}", f"model.name={model}",
                f"train.epochs={EPOCHS}", f"train.num_threads={threads}", "train.device=cpu"]
    command = ["-m", "helpers.train", "--data", params["dataset"], "--out", str(out)]
    if params.get("config"):
        command += ["--config", params["config"]]
    for setting in settings:
        command += ["--set", setting]
    return command


def _epoch_speed(out: Path, seconds: float) -> dict:
    rows = list(csv.DictReader((out / "history.csv").open()))
    train_clips = len(json.loads((out / "splits.json").read_text())["train"])
    epoch = float(rows[-1]["seconds"])
    return {"train_clips": train_clips, "epoch_seconds": epoch, "epoch_clips_per_s": train_clips / epoch,
            "command_seconds": seconds}


def run_train_command(params: dict, model: str = "stgcn", processes: int = 1, threads: int = 1,
                      timeout: float = 1800) -> dict:
    """Train `model` with the train command (under torchrun when `processes` > 1); its last epoch's speed."""
    if processes > 1 and not torchrun_available():
        return {"available": False, "reason": "helpers.train has no torchrun support in this checkout "
                                              "(no helpers.training.distributed)"}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        launcher = [sys.executable]
        if processes > 1:
            launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                          os.environ.get("PYTHONPATH")])),
               "OMP_NUM_THREADS": str(threads)}
        start = time.perf_counter()
        done = subprocess.run(launcher + _train_command(params, model, threads, out), cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"available": False, "reason": f"the train command failed (exit {done.returncode}): {tail[0]}"}
        return {"available": True, "processes": processes, "threads_per_process": threads, "model": model,
                **_epoch_speed(out, time.perf_counter() - start)}


def measure_train_commands(params: dict) -> dict:
    """One process with 1 and with PROCESSES threads, and PROCESSES processes of 1 thread under torchrun."""
    model = params.get("model", "stgcn")
    return {
        "one_process_1_thread": run_train_command(params, model, 1, 1),
        f"one_process_{PROCESSES}_threads": run_train_command(params, model, 1, PROCESSES),
        f"torchrun_{PROCESSES}_processes": run_train_command(params, model, PROCESSES, 1),
    }


def format_train_commands(result: dict) -> list[str]:
    lines = ["| `python -m helpers.train`, last of "
             f"{EPOCHS} epochs (training + validation pass) | clips/s | epoch seconds |", "|---|---:|---:|"]
    for key, row in result.items():
        label = key.replace("_", " ")
        if row.get("available"):
            lines.append(f"| {label} ({row['model']}, {row['train_clips']} training clips) | "
                         f"{row['epoch_clips_per_s']:.1f} | {row['epoch_seconds']:.1f} |")
        else:
            lines.append(f"| {label} | not available: {row['reason']} | |")
    return lines
