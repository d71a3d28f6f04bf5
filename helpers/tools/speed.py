"""Speed and memory benchmark of the full-size data path and of every model.

    python -m helpers.tools.speed [--clips 13320] [--mean-slots 4] [--out runs/speed] [--quick] [--dataset PATH]
                            [--work DIR] [--models baseline,improved] [--threads N] [--config DATASET]
                            [--compare-ref main [--compare-models stgcn] [--compare-threads 1,2]]
                            [--gpu-batch 256] [--no-train-commands]

Without --dataset, a UCF101-sized synthetic pickle (helpers.data.synthetic) is
generated once into --work and reused: 13,320 clips with four person slots per
clip on average, so that it is as large as the real ucf101_2d.pkl (about 1 GB).
Each measurement runs in a fresh Python process (`python -m helpers.tools.speed
--measure NAME`), so its peak resident memory is its own: VmHWM from
/proc/self/status (the high-water mark of this process's memory map), with
`resource.getrusage(RUSAGE_SELF).ru_maxrss` recorded beside it.

1. unpickle: `load_dataset` (restricted unpickler + full validation) of the whole file;
2. cache build: `build_cache` (unpickle, validate, write the memory-mapped cache);
3. warm open: `open_cached_dataset` of the whole file (its clips' dicts are made on
   first use), then the time to make every clip's dict and read its arrays once;
   unpickle and warm open alternate 3 times (1 with --quick) and their medians
   are compared;
4. five-class run: in one process, first its floor (python, torch, the project,
   each LSTM built with its optimizer and stepped once on a zero batch: everything
   but data), then open the cache with classes 0-4 and train 1 epoch of each LSTM
   (`train`).  The data's part is the run's peak RSS above that floor; the target
   compares it with unpickling the full file.  The same run without the cache
   (`load_dataset` + `select_classes`) is shown beside it;
5. per model on the same subset: training clips/s (timed steps after a warm-up,
   with `train`'s own step function), inference clips/s at batch 64 and latency ms/clip at
   batch 1 (`helpers.evaluation.timing`: forward pass only), each from the median call (other
   processes' load disturbs a median less than a mean), and the share of step time
   spent waiting for data; on CPU, and when CUDA is present also on the GPU in
   float32 and with AMP (training batch --gpu-batch, inference batch 256);
6. with --compare-ref REV: the same model rows of revision REV, alternating with
   this code's (`helpers.tools.speed_reference`), and their ratios;
7. the train command's epoch speed in one process and in two CPU processes under
   torchrun (`helpers.tools.speed_distributed`; not with --quick).

The source file has just been written or read, so both the unpickle and the
cache opens run from the page cache: the comparison is of CPU work, not of disk.
Results go to `<out>/speed.json` (atomically) and a markdown table to stdout.
Model and preprocessing settings are the dataclass defaults (helpers/config.py), or those of `--config`.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.io import atomic_write_json
from helpers.paths import PROJECT_ROOT, data_dir, runs_dir

LSTMS = ("baseline", "improved")
QUICK_CLIPS = 505  # 5 per class: every UCF101 class is present, classes 0-4 have ~26 clips
MEAN_SLOTS = 4.0  # person slots per clip that make the synthetic file as large as the real one (~1 GB)

# (key in the results' "targets", description, goal) — checked by check_targets
TARGETS = {
    "warm_speedup": "warm cache open >= 20x faster than unpickling",
    "subset_data_share": "the data part of the five-class run (peak RSS above its floor) <= 5% of unpickling "
                         "the full file",
    "data_wait_share": "data waiting < 10% of training step time (worst model)",
    "lstm_inference": "LSTM inference >= 1,000 clips/s at batch 64 (slower LSTM)",
    "stgcn_training_speedup": "ST-GCN training >= 2x the reference revision's clips/s, each at its best thread "
                              "count and precision on the same cores (with --compare-ref)",
    "gpu_stgcn_training": "GPU: ST-GCN training >= 2,000 clips/s with AMP (when CUDA is present)",
    "gpu_stgcn_inference": "GPU: ST-GCN inference >= 20,000 clips/s at batch 256 with AMP (when CUDA is present)",
}


# ----------------------------------------------------------------------------
# Memory of this process
# ----------------------------------------------------------------------------

def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        return None
    return None


def ru_maxrss_mb() -> float:
    """ru_maxrss of this process in MiB (kB on Linux, bytes on macOS)."""
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value / 2**20 if sys.platform == "darwin" else value / 1024


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB: VmHWM on Linux, else ru_maxrss."""
    return _proc_status_mb("VmHWM") or ru_maxrss_mb()


def current_rss_mb() -> float:
    """Resident memory now in MiB (VmRSS; the peak where /proc is missing)."""
    return _proc_status_mb("VmRSS") or ru_maxrss_mb()


def _memory() -> dict:
    return {"peak_rss_mb": peak_rss_mb(), "ru_maxrss_mb": ru_maxrss_mb()}


# ----------------------------------------------------------------------------
# Measurements: each runs in its own process and returns a JSON-able dict
# ----------------------------------------------------------------------------

def measure_unpickle(params: dict) -> dict:
    from helpers.data.dataset import load_dataset

    start, cpu = time.perf_counter(), time.process_time()
    dataset = load_dataset(params["dataset"])
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    slots = [clip["keypoint"].shape[0] for clip in dataset.annotations]
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "clips": len(dataset.annotations),
            "classes": dataset.num_classes, "layout": dataset.layout.name,
            "mean_person_slots": sum(slots) / max(1, len(slots)), **_memory()}


def measure_cache_build(params: dict) -> dict:
    from helpers.data.cache import build_cache

    start, cpu = time.perf_counter(), time.process_time()
    folder = build_cache(params["dataset"], verbose=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    size = sum(f.stat().st_size for f in folder.iterdir())
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "cache_mb": size / 2**20, "folder": str(folder),
            **_memory()}


def measure_warm_load(params: dict) -> dict:
    import numpy as np

    from helpers.data.cache import open_cached_dataset

    start, cpu = time.perf_counter(), time.process_time()
    dataset = open_cached_dataset(params["dataset"], verbose=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    memory = _memory()  # before any clip data is read
    start = time.perf_counter()
    for clip in dataset.annotations:  # read every page once: the deferred cost of a full pass
        clip["keypoint"].view(np.uint16).max()
        clip["keypoint_score"].view(np.uint16).max()
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "read_all_seconds": time.perf_counter() - start,
            "clips": len(dataset.annotations), **memory}


def _subset_config(params: dict, name: str, cache: bool = True):
    from helpers.config import compose_config

    config = compose_config(params["config"])
    config.data.path, config.data.classes, config.data.cache = params["dataset"], params["classes"], cache
    config.model.name, config.train.epochs = name, 1
    config.train.num_threads = params.get("threads", 0) or config.train.num_threads
    return config


def _memory_floor(params: dict) -> None:
    """Build each LSTM of the five-class run and train it one step on a zero batch of the run's shape:
    what the run holds without any data (python, torch, the models, optimizer state and the step's
    workspace), so that the process's high-water mark afterwards is the run's floor."""
    import torch
    from torch import nn

    from helpers.data.layouts import get_layout
    from helpers.models.registry import build_model, model_kwargs
    from helpers.training.loop import make_optimizer
    from helpers.transforms.inputs import stream_channels

    for name in LSTMS:
        config = _subset_config(params, name)
        if config.train.num_threads:
            torch.set_num_threads(config.train.num_threads)
        streams, p = list(config.model.streams), config.preprocess
        layout = get_layout(params.get("layout", "coco17"))
        model = build_model(name, len(params["classes"]), layout, stream_channels(streams), **model_kwargs(config))
        optimizer = make_optimizer(model, config.train)
        inputs = torch.zeros(config.train.batch_size, stream_channels(streams), p.length, layout.num_joints,
                             p.max_persons)
        loss = nn.functional.cross_entropy(model(inputs), torch.zeros(len(inputs), dtype=torch.long))
        loss.backward()
        optimizer.step()


def measure_subset_run(params: dict) -> dict:
    """The five-class run: open the file with `classes` (cached unless params['cache'] is false),
    train 1 epoch of each LSTM; before any data is read, the same process's floor (`_memory_floor`)."""
    rss_python = current_rss_mb()
    import torch  # noqa: F401  (imported first, so that rss_after_torch_mb holds torch's share)

    rss_after_torch = current_rss_mb()
    from helpers.data.source import open_dataset
    from helpers.training.loop import train

    rss_after_imports, peak_after_imports = current_rss_mb(), peak_rss_mb()
    _memory_floor(params)
    floor = peak_rss_mb()
    runs, rss_after_open = {}, None
    with tempfile.TemporaryDirectory() as folder:
        for name in LSTMS:
            config = _subset_config(params, name, params.get("cache", True))
            start = time.perf_counter()
            dataset = open_dataset(config.data, verbose=False)
            opened = time.perf_counter()
            if rss_after_open is None:
                rss_after_open = current_rss_mb()
            history = train(config, dataset, Path(folder) / name, verbose=False)
            runs[name] = {"seconds": time.perf_counter() - start, "open_seconds": opened - start,
                          "epoch_seconds": history[-1]["seconds"],
                          "data_wait_share": history[-1]["data_wait_share"]}
    memory = _memory()
    return {"rss_python_mb": rss_python, "rss_after_torch_mb": rss_after_torch,
            "rss_after_imports_mb": rss_after_imports, "peak_after_imports_mb": peak_after_imports,
            "floor_mb": floor, "data_mb": memory["peak_rss_mb"] - floor,
            "rss_after_open_mb": rss_after_open, "clips": len(dataset.annotations), "runs": runs, **memory}


def _training_speed(model, loader, config, device, budget: dict) -> dict:
    """Training clips/s and the data-wait share over timed steps after one warm-up step, each step being
    `train`'s own (`helpers.training.step.train_step`, at the precision `train` would use on `device`).

    Steps run until `budget['train_steps']` or `budget['train_seconds']` (at least 3).  clips/s
    is the batch size over the median step, which other processes' load disturbs
    less than the mean; the mean is kept too.
    """
    from torch import nn

    from helpers.training.device import pick_precision, to_device
    from helpers.training.step import make_optimizer, train_step

    optimizer = make_optimizer(model, config.train)
    criterion = nn.CrossEntropyLoss(label_smoothing=config.train.label_smoothing)
    precision = pick_precision(device, config.train.amp, config.train.cpu_bf16)
    scaler = precision.grad_scaler()
    model.train()

    def batches():
        while True:
            yield from loader

    def step(inputs, targets):
        # train_step reads the loss (its finiteness check), which waits for the step to finish, as in `train`
        train_step(model, to_device(inputs, device), to_device(targets, device), criterion, optimizer, scaler,
                   precision, config.train.grad_clip)

    stream = batches()
    step(*next(stream))  # warm-up: first-call allocations and thread pools
    clips, waits, works = [], [], []
    begin = tick = time.perf_counter()
    while len(works) < 3 or (len(works) < budget["train_steps"] and tick - begin < budget["train_seconds"]):
        inputs, targets = next(stream)
        fetched = time.perf_counter()
        step(inputs, targets)
        waits.append(fetched - tick)
        tick = time.perf_counter()
        works.append(tick - fetched)
        clips.append(len(targets))
    totals = [w + k for w, k in zip(waits, works)]
    return {"train_clips_per_s": statistics.median(c / t for c, t in zip(clips, totals)),
            "train_clips_per_s_mean": sum(clips) / sum(totals),
            "data_wait_share": sum(waits) / sum(totals), "train_steps": len(totals),
            "batch_size": config.train.batch_size, "precision": precision.name}


def _inference_speed(model, input_shape: tuple, device, budget: dict, batch_size: int = 64) -> dict:
    """Clips/s at `batch_size` and ms/clip at batch 1 (medians after warm-up, helpers.evaluation.timing);
    input (C, T, V, M)."""
    from helpers.evaluation.timing import inference_latency_ms, inference_throughput

    return {"infer_clips_per_s": inference_throughput(model, input_shape, batch_size, budget["batch_seconds"],
                                                      device=device),
            "infer_batch_size": batch_size,
            "latency_ms": inference_latency_ms(model, input_shape, budget["latency_runs"], device=device)}


def torch_families() -> list[str]:
    """Model families of MODELS that train by gradient steps: the rows of the speed table."""
    from helpers.models.registry import MODELS, is_fitted

    return [name for name in MODELS if not is_fitted(name)]


def measure_models(params: dict) -> dict:
    """Training and inference speed of each model on the training clips of the class subset.

    params: `device` (default cpu), `amp` (`train.amp`: mixed precision on CUDA, as `train` runs it),
    `cpu_bf16` (`train.cpu_bf16`: bfloat16 autocast on CPU),
    `train_batch` and `infer_batch` (default: the config's batch and 64)."""
    import torch
    from torch.utils.data import DataLoader

    from helpers.transforms.clips import ClipDataset, stream_channels
    from helpers.data.source import open_dataset
    from helpers.models.registry import build_model, count_parameters, model_kwargs
    from helpers.data.splits import config_splits
    from helpers.evaluation.timing import environment
    from helpers.training.determinism import seed_everything
    from helpers.training.device import pick_device, pick_precision

    base = _subset_config(params, LSTMS[0])
    if base.train.num_threads:
        torch.set_num_threads(base.train.num_threads)
    dataset = open_dataset(base.data, verbose=False)
    splits = config_splits(dataset, base.data)
    clips = [dataset.clip(i) for i in splits.train]
    device = pick_device(params.get("device", "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        from helpers.errors import UserInputError

        raise UserInputError(f"GPU rows: torch {torch.__version__} sees no CUDA device on this machine")
    precision = pick_precision(device, bool(params.get("amp")), bool(params.get("cpu_bf16")))
    budget = params["budget"]
    results = {}
    for name in params.get("models") or torch_families():
        config = _subset_config(params, name)
        config.train.batch_size = params.get("train_batch") or config.train.batch_size
        config.train.amp = bool(params.get("amp"))
        config.train.cpu_bf16 = bool(params.get("cpu_bf16"))
        streams = list(config.model.streams)
        seed = config.train.run_seed()
        start = time.perf_counter()
        train_set = ClipDataset(clips, dataset.layout, config.preprocess, streams, config.augment,
                                seed=seed)
        preprocess_seconds = time.perf_counter() - start
        seed_everything(seed)
        loader = DataLoader(train_set, batch_size=config.train.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        model = build_model(name, dataset.num_classes, dataset.layout, stream_channels(streams),
                            **model_kwargs(config)).to(device)
        training = _training_speed(model, loader, config, device, budget)  # at `train`'s own precision
        with precision.autocast():
            inference = _inference_speed(model, tuple(train_set[0][0].shape), device, budget,
                                         params.get("infer_batch", 64))
        results[name] = {
            "parameters": count_parameters(model),
            **training, **inference,
            # without augmentation ClipDataset preprocesses every clip up front
            "preprocess_clips_per_s": len(train_set) / preprocess_seconds if train_set.inputs is not None else None,
        }
    return {"models": results, "train_clips": len(clips), "device": str(device),
            "precision": precision.name,
            "environment": environment()}


MEASURES = {
    "unpickle": measure_unpickle,
    "cache_build": measure_cache_build,
    "warm_load": measure_warm_load,
    "subset_run": measure_subset_run,
    "models": measure_models,
}


# ----------------------------------------------------------------------------
# Orchestration (a light parent: no torch, no data, so children start clean)
# ----------------------------------------------------------------------------

def run_isolated(name: str, params: dict, timeout: float | None = None, root: Path = PROJECT_ROOT) -> dict:
    """Run measurement `name` in a fresh interpreter and return its result dict.

    `root`: the checkout whose code runs (another revision's, for a before/after comparison)."""
    with tempfile.TemporaryDirectory() as folder:
        result_path = Path(folder) / "result.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", "helpers.tools.speed", "--measure", name, "--params", json.dumps(params),
                   "--result", str(result_path)]
        done = subprocess.run(command, cwd=root, env=env, timeout=timeout, stdout=subprocess.PIPE, text=True)
        print(done.stdout, end="", file=sys.stderr)  # keep the parent's stdout for the report
        if done.returncode != 0:
            from helpers.errors import UserInputError

            raise UserInputError(f"measurement {name!r} failed (exit code {done.returncode}); see its messages above")
        return json.loads(result_path.read_text())


def ensure_dataset(work: Path, clips: int, mean_slots: float = MEAN_SLOTS) -> Path:
    """The synthetic full-size pickle with `clips` clips and `mean_slots` person slots per clip under
    `work`, generated (in a subprocess) if absent."""
    path = Path(work) / f"ucf101_synthetic_{clips}_{mean_slots:g}slots.pkl"
    if not path.is_file():
        print(f"Generating {path} ({clips} clips; deterministic, reused by later runs)...", file=sys.stderr)
        done = subprocess.run([sys.executable, "-m", "helpers.data.synthetic", "--out", str(path), "--full",
                               "--num-clips", str(clips), "--mean-slots", f"{mean_slots:g}"], check=True,
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
        print(done.stdout, end="", file=sys.stderr)
    return path


def _budget(quick: bool) -> dict:
    """How long each speed measurement may repeat (the median of the repeats is reported)."""
    if quick:
        return {"train_steps": 3, "train_seconds": 0.0, "batch_seconds": 0.0, "latency_runs": 10}
    return {"train_steps": 30, "train_seconds": 30.0, "batch_seconds": 10.0, "latency_runs": 100}


def _summary(runs: list[dict]) -> dict:
    """Repeated runs of one measurement: the median time, the largest peak RSS, the rest of the first run."""
    summary = {**runs[0], "all_seconds": [r["seconds"] for r in runs],
               "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "ru_maxrss_mb": max(r["ru_maxrss_mb"] for r in runs)}
    for key in ("seconds", "cpu_seconds", "read_all_seconds"):
        if key in summary:
            summary[key] = statistics.median(r[key] for r in runs)
    return summary


def step(text: str) -> None:
    """A progress line on stderr (stdout is kept for the report)."""
    print(f"[speed] {text}", file=sys.stderr, flush=True)


def run_benchmark(dataset: Path, quick: bool = False, models: list[str] | None = None,
                  config: Path | None = None, threads: int = 0, run=run_isolated, compare_ref: str | None = None,
                  compare_models: tuple[str, ...] = ("stgcn",), compare_threads: tuple[int, ...] = (1, 2),
                  compare_rounds: int = 3, gpu_batch: int = 256, train_commands: bool = True) -> dict:
    """Run every measurement on pickle `dataset`; returns the results (see module docstring).

    `run(name, params)` executes one measurement: in a fresh process by default;
    tests may pass an in-process runner (whose memory numbers are then not per step).
    """
    load_before = os.getloadavg()
    base = {"dataset": str(dataset), "config": str(config) if config else None, "threads": threads}

    repeats = 1 if quick else 3
    unpickles, warms, build = [], [], None
    for i in range(repeats):  # interleaved, so that both see the same background load
        step(f"unpickling the full file (restricted unpickler + validation), {i + 1}/{repeats}")
        unpickles.append(run("unpickle", base))
        if build is None:
            step("building the cache")
            build = run("cache_build", base)
        step(f"opening the warm cache, {i + 1}/{repeats}")
        warms.append(run("warm_load", base))
    unpickle, warm = _summary(unpickles), _summary(warms)
    classes = list(range(min(5, unpickle["classes"])))
    subset_params = {**base, "classes": classes, "layout": unpickle["layout"]}
    step(f"five-class run from the cache: classes {classes}, 1 epoch of {', '.join(LSTMS)}")
    subset = run("subset_run", subset_params)
    step("the same five-class run without the cache (load_dataset + select_classes), for comparison")
    uncached = run("subset_run", {**subset_params, "cache": False})
    step("model speed on the same subset (CPU)")
    speed = run("models", {**subset_params, "models": models, "budget": _budget(quick)})
    speed_bf16 = None
    if speed["environment"].get("cpu_native_bf16"):
        step("model speed on the same subset (CPU, bfloat16 autocast: train.cpu_bf16)")
        speed_bf16 = run("models", {**subset_params, "models": models, "budget": _budget(quick), "cpu_bf16": True})
    gpu = {}
    if speed["environment"].get("cuda"):
        gpu, _ = gpu_rows(run, subset_params, models, gpu_batch, _budget(quick))
    comparison = None
    if compare_ref:
        from helpers.tools.speed_reference import compare

        comparison = compare(run, {**subset_params, "budget": _budget(quick)}, compare_ref, list(compare_models),
                             list(compare_threads), compare_rounds, progress=step,
                             cpu_bf16=bool(speed["environment"].get("cpu_native_bf16")))
    commands = None
    if train_commands:
        from helpers.tools.speed_distributed import measure_train_commands

        step("the train command: 1 process (1 and 2 threads), and 2 processes under torchrun")
        commands = measure_train_commands(subset_params)
    result = {
        "quick": quick,
        "config": str(config) if config else None,
        "dataset": {"path": str(dataset), "size_mb": Path(dataset).stat().st_size / 2**20,
                    "clips": unpickle["clips"], "classes": unpickle["classes"],
                    "mean_person_slots": unpickle["mean_person_slots"], "subset_classes": classes,
                    "subset_clips": subset["clips"], "subset_train_clips": speed["train_clips"]},
        "machine": {**speed["environment"], "device": speed["device"],
                    "load_average_before": list(load_before), "load_average_after": list(os.getloadavg())},
        "unpickle": unpickle,
        "cache_build": build,
        "warm_load": warm,
        "subset_run": subset,
        "subset_run_uncached": uncached,
        "models": speed["models"],
        "models_cpu_bf16": speed_bf16["models"] if speed_bf16 else None,
        "gpu_models": gpu,
        "comparison": comparison,
        "train_commands": commands,
    }
    result["targets"] = check_targets(result)
    return result


GPU_ONLY_CLIPS = 2020  # 20 per class: with every class kept, about 1,100 training clips for batches of 256


def gpu_rows(run, params: dict, models: list[str] | None, gpu_batch: int, budget: dict) -> tuple[dict, dict]:
    """({precision: model rows}, environment) on CUDA in float32 and with AMP (training batch `gpu_batch`,
    inference 256)."""
    rows = {}
    for amp in (False, True):
        step(f"model speed on CUDA, {'AMP' if amp else 'float32'}, training batch {gpu_batch}, inference batch 256")
        gpu = run("models", {**params, "models": models, "budget": budget, "device": "cuda", "amp": amp,
                             "train_batch": gpu_batch, "infer_batch": 256})
        rows[gpu["precision"]] = gpu["models"]
    return rows, gpu["environment"]


def run_gpu_benchmark(dataset: Path, models: list[str] | None = None, gpu_batch: int = 256,
                      run=run_isolated) -> dict:
    """Only the GPU rows (`--gpu-only`), on every class of `dataset`: what scripts/gpu_check.sh prints."""
    params = {"dataset": str(dataset), "config": None, "threads": 0, "classes": None}
    budget = {"train_steps": 50, "train_seconds": 10.0, "batch_seconds": 3.0, "latency_runs": 50}
    rows, environment = gpu_rows(run, params, models, gpu_batch, budget)
    result = {"gpu_only": True, "dataset": {"path": str(dataset)}, "gpu_models": rows,
              "machine": {**environment, "device": "cuda"}}
    amp = {k: v for k, v in rows.items() if k != "float32"}
    result["targets"] = {}
    for value in amp.values():
        if "stgcn" in value:
            for key, figure, goal in (("gpu_stgcn_training", "train_clips_per_s", 2000.0),
                                      ("gpu_stgcn_inference", "infer_clips_per_s", 20000.0)):
                result["targets"][key] = {"value": value["stgcn"][figure], "goal": goal, "comparison": ">=",
                                          "passed": value["stgcn"][figure] >= goal, "description": TARGETS[key]}
    return result


def format_gpu_report(result: dict) -> str:
    lines = []
    for precision, rows in result["gpu_models"].items():
        lines += [f"GPU ({result['machine'].get('cuda')}), {precision}:", "",
                  *_model_rows(rows, next(iter(rows.values()))["infer_batch_size"]), ""]
    lines += ["| target | value | result |", "|---|---:|---|"]
    lines += [f"| {t['description']} | {t['value']:.0f} | {'PASS' if t['passed'] else 'FAIL'} |"
              for t in result["targets"].values()]
    m = result["machine"]
    lines += ["", f"torch {m['torch']}, Python {m['python']}, {m['cpu_count']} CPUs"]
    return "\n".join(lines)


def check_targets(result: dict) -> dict:
    """Each target of TARGETS that this run measured: its value, goal and whether it passes."""
    waits = [m["data_wait_share"] for m in result["models"].values()]
    waits += [r["data_wait_share"] for r in result["subset_run"]["runs"].values()]
    lstm_speeds = [m["infer_clips_per_s"] for name, m in result["models"].items() if name in LSTMS]
    subset, unpickle = result["subset_run"], result["unpickle"]
    values = {
        "warm_speedup": (unpickle["seconds"] / result["warm_load"]["seconds"], 20.0, ">="),
        "subset_data_share": (subset["data_mb"] / unpickle["peak_rss_mb"], 0.05, "<="),
        "data_wait_share": (max(waits), 0.10, "<"),
        "lstm_inference": (min(lstm_speeds) if lstm_speeds else float("nan"), 1000.0, ">="),
    }
    comparison = result.get("comparison")
    if comparison:
        from helpers.tools.speed_reference import best_against_best

        for name, current, reference in best_against_best(comparison):
            if name == "stgcn":
                values["stgcn_training_speedup"] = (current["clips_per_s"] / reference["clips_per_s"], 2.0, ">=")
    amp_rows = {k: v for k, v in (result.get("gpu_models") or {}).items() if k != "float32"}
    for rows in amp_rows.values():
        if "stgcn" in rows:
            values["gpu_stgcn_training"] = (rows["stgcn"]["train_clips_per_s"], 2000.0, ">=")
            values["gpu_stgcn_inference"] = (rows["stgcn"]["infer_clips_per_s"], 20000.0, ">=")
    checks = {">=": lambda v, g: v >= g, "<=": lambda v, g: v <= g, "<": lambda v, g: v < g}
    targets = {key: {"value": value, "goal": goal, "comparison": op, "passed": bool(checks[op](value, goal)),
                     "description": TARGETS[key]} for key, (value, goal, op) in values.items()}
    # beside the data share: the run's whole peak against the same reference, and its floor
    targets["subset_data_share"].update(
        data_mb=subset["data_mb"], floor_mb=subset["floor_mb"], peak_mb=subset["peak_rss_mb"],
        peak_share=subset["peak_rss_mb"] / unpickle["peak_rss_mb"],
        uncached_data_share=result["subset_run_uncached"]["data_mb"] / unpickle["peak_rss_mb"])
    # on a shared machine the ratio of CPU times says more about the code than wall times do
    targets["warm_speedup"]["cpu_value"] = unpickle["cpu_seconds"] / max(1e-9, result["warm_load"]["cpu_seconds"])
    return targets


def _model_rows(rows: dict, infer_batch: int) -> list[str]:
    lines = [f"| model | parameters | train clips/s (batch) | data wait | inference clips/s (batch {infer_batch}) | "
             "latency ms/clip (batch 1) |", "|---|---:|---:|---:|---:|---:|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m['parameters']:,} | {m['train_clips_per_s']:.0f} ({m['batch_size']}) | "
                     f"{m['data_wait_share']:.1%} | {m['infer_clips_per_s']:.0f} | {m['latency_ms']:.2f} |")
    return lines


def format_report(result: dict) -> str:
    """Markdown tables of a `run_benchmark` result."""
    d, u, b, w = (result[k] for k in ("dataset", "unpickle", "cache_build", "warm_load"))
    s, n = result["subset_run"], result["subset_run_uncached"]

    def run_row(label, run):
        seconds = sum(r["seconds"] for r in run["runs"].values())
        return f"| {label} | {seconds:.1f} s | {run['peak_rss_mb']:.0f} MiB |"

    def memory_row(label, run):
        return (f"| {label} | {run['peak_rss_mb']:.0f} | {run['floor_mb']:.0f} | {run['data_mb']:.0f} | "
                f"{run['data_mb'] / u['peak_rss_mb']:.1%} |")

    lines = [
        f"Dataset: {d['path']} ({d['size_mb']:.0f} MiB, {d['clips']} clips, {d['classes']} classes, "
        f"{d['mean_person_slots']:.1f} person slots per clip); subset: classes {d['subset_classes']} "
        f"({d['subset_clips']} clips, {d['subset_train_clips']} for training)",
        "",
        "| step | time | peak RSS |",
        "|---|---:|---:|",
        f"| unpickle + validate the full file (`load_dataset`, median of {len(u['all_seconds'])}) | "
        f"{u['seconds']:.2f} s (CPU {u['cpu_seconds']:.2f} s) | {u['peak_rss_mb']:.0f} MiB |",
        f"| build the cache (once; {b['cache_mb']:.0f} MiB on disk) | {b['seconds']:.2f} s "
        f"(CPU {b['cpu_seconds']:.2f} s) | {b['peak_rss_mb']:.0f} MiB |",
        f"| open the warm cache (`open_cached_dataset`, median of {len(w['all_seconds'])}) | "
        f"{w['seconds'] * 1000:.0f} ms (CPU {w['cpu_seconds'] * 1000:.0f} ms) | {w['peak_rss_mb']:.0f} MiB |",
        f"| ... then make every clip's dict and read its arrays once | {w['read_all_seconds']:.2f} s | |",
        run_row("five-class run from the cache: open + 1 epoch of each LSTM", s),
        run_row("the same run without the cache (`load_dataset` + `select_classes`)", n),
        "",
        "Memory of the five-class run: its peak RSS, the same process's floor (python, torch, the models, their "
        "optimizers and one training step on a zero batch, before any data is read) and the data's part above it, "
        f"against unpickling the full file ({u['peak_rss_mb']:.0f} MiB):",
        "",
        "| five-class run | peak RSS (MiB) | floor (MiB) | data part (MiB) | data part / unpickling |",
        "|---|---:|---:|---:|---:|",
        memory_row("from the cache", s),
        memory_row("without the cache", n),
        "",
        f"Floor, step by step: python {s['rss_python_mb']:.0f} MiB, + torch {s['rss_after_torch_mb']:.0f}, "
        f"+ helpers {s['rss_after_imports_mb']:.0f}, + models and a training step {s['floor_mb']:.0f} (peak); "
        f"RSS once the five classes are open: {s['rss_after_open_mb']:.0f} MiB.",
        "",
        "CPU:",
        "",
        *_model_rows(result["models"], 64),
    ]
    if result.get("models_cpu_bf16"):
        lines += ["", "CPU, bfloat16 autocast (`train.cpu_bf16`):", "", *_model_rows(result["models_cpu_bf16"], 64)]
    for precision, rows in (result.get("gpu_models") or {}).items():
        lines += ["", f"GPU ({result['machine'].get('cuda')}), {precision}:", "",
                  *_model_rows(rows, next(iter(rows.values()))["infer_batch_size"])]
    if result.get("comparison"):
        from helpers.tools.speed_reference import format_comparison

        lines += ["", *format_comparison(result["comparison"])]
    if result.get("train_commands"):
        from helpers.tools.speed_distributed import format_train_commands

        lines += ["", *format_train_commands(result["train_commands"])]
    lines += ["", "| target | value | result |", "|---|---:|---|"]
    for t in result["targets"].values():
        value = f"{t['value']:.1%}" if t["goal"] < 1 else f"{t['value']:.1f}"
        if "cpu_value" in t:
            value += f" (CPU time: {t['cpu_value']:.1f})"
        if "data_mb" in t:
            value += (f" ({t['data_mb']:.0f} MiB; without the cache {t['uncached_data_share']:.1%}; the whole peak "
                      f"{t['peak_share']:.0%})")
        lines.append(f"| {t['description']} | {value} | {'PASS' if t['passed'] else 'FAIL'} |")
    m = result["machine"]
    lines += ["", f"{m['cpu_count']} CPUs, {m['torch_threads']} torch threads, device {m['device']}; "
                  f"load average {m['load_average_before'][0]:.2f} before, {m['load_average_after'][0]:.2f} after; "
                  f"torch {m['torch']}, numpy {m['numpy']}, Python {m['python']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.tools.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=None,
                        help=f"clips of the synthetic dataset (default 13320; {QUICK_CLIPS} with --quick)")
    parser.add_argument("--out", type=Path, default=None, help="folder for speed.json (default runs/speed)")
    parser.add_argument("--quick", action="store_true", help="a small, fast version (for tests and smoke checks)")
    parser.add_argument("--dataset", type=Path, default=None,
                        help="benchmark this pickle (e.g. data/ucf101_2d.pkl) instead of the synthetic one")
    parser.add_argument("--work", type=Path, default=None, help="where the synthetic pickle goes (default data/speed)")
    parser.add_argument("--models", default=None, help="comma-separated models (default: all of MODELS)")
    parser.add_argument("--config", type=Path, default=None,
                        help="dataset file whose preprocessing settings apply (default: the dataclass defaults)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default 0: torch's choice)")
    parser.add_argument("--mean-slots", type=float, default=MEAN_SLOTS,
                        help=f"person slots per clip of the synthetic file (default {MEAN_SLOTS:g}: as large as "
                             "the real ucf101_2d.pkl, ~1 GB)")
    parser.add_argument("--compare-ref", metavar="REV",
                        help="also measure the model rows of git revision REV (e.g. main), alternating with this "
                             "code's, and print the ratios")
    parser.add_argument("--compare-models", default="stgcn", help="models of the comparison (default stgcn)")
    parser.add_argument("--compare-threads", default="1,2", help="thread counts of the comparison (default 1,2)")
    parser.add_argument("--compare-rounds", type=int, default=3, help="alternating runs per side (default 3)")
    parser.add_argument("--gpu-batch", type=int, default=256, help="training batch of the GPU rows (default 256)")
    parser.add_argument("--gpu-only", action="store_true",
                        help=f"only the GPU rows, on every class of a {GPU_ONLY_CLIPS}-clip synthetic file "
                             "(scripts/gpu_check.sh)")
    parser.add_argument("--no-train-commands", action="store_true",
                        help="skip the train command's rows (1 process, and 2 processes under torchrun)")
    parser.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:  # a child process of run_isolated
        atomic_write_json(args.result, MEASURES[args.measure](json.loads(args.params)))
        return 0
    dataset = args.dataset
    if dataset is None:
        clips = args.clips or (QUICK_CLIPS if args.quick else GPU_ONLY_CLIPS if args.gpu_only else 13320)
        dataset = ensure_dataset(args.work or data_dir() / "speed", clips, args.mean_slots)
    elif not dataset.is_file():
        from helpers.errors import UserInputError

        raise UserInputError(f"{dataset}: dataset file not found")
    from helpers.cli import parse_list

    models = parse_list(args.models, "models") if args.models else None
    out = args.out or runs_dir() / "speed"
    if args.gpu_only:
        result = {"command": shlex.join(["python", "-m", "helpers.tools.speed",
                                         *(sys.argv[1:] if argv is None else argv)]),
                  **run_gpu_benchmark(dataset, models, args.gpu_batch)}
        atomic_write_json(out / "speed_gpu.json", result)
        print(format_gpu_report(result))
        print(f"\nwrote {out / 'speed_gpu.json'}")
        return 0
    benchmark = run_benchmark(
        dataset, args.quick, models, args.config, args.threads, compare_ref=args.compare_ref,
        compare_models=tuple(parse_list(args.compare_models, "compare-models")),
        compare_threads=tuple(parse_list(args.compare_threads, "compare-threads", int)),
        compare_rounds=args.compare_rounds, gpu_batch=args.gpu_batch,
        train_commands=not (args.no_train_commands or args.quick))
    result = {"command": shlex.join(["python", "-m", "helpers.tools.speed", *(sys.argv[1:] if argv is None else argv)]),
              **benchmark}
    atomic_write_json(out / "speed.json", result)
    print(format_report(result))
    print(f"\nwrote {out / 'speed.json'}")
    return 0


if __name__ == "__main__":
    from helpers.cli import run_command

    sys.exit(run_command(main))
