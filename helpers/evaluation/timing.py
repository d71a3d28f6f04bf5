"""Inference speed of a model on random input, and the software/hardware it was measured on.

Times cover the model's forward pass only (no preprocessing), in eval mode under
`torch.inference_mode`, after warm-up, as the median of repeated calls.  CPU numbers depend on the thread count
and on other load on the machine: report `environment()` (it includes the load
average) with every number.
"""
from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np
import torch
from torch import nn

from helpers.training.device import cpu_has_native_bf16


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _random_input(input_shape: tuple[int, ...], batch_size: int, device: torch.device) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randn((batch_size, *input_shape), generator=generator).to(device)


class _EvalMode:
    """Put a model in eval mode and restore its previous mode afterwards."""

    def __init__(self, model: nn.Module):
        self.model, self.was_training = model, model.training

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was_training)


def timed_calls(call, seconds: float = 1.0, min_calls: int = 3, max_calls: int = 10_000,
                device: str | torch.device = "cpu") -> list[float]:
    """Seconds taken by each of repeated `call()`s: at least `min_calls`, until `seconds` have passed."""
    device = torch.device(device)
    times: list[float] = []
    begin = time.perf_counter()
    while len(times) < min_calls or (len(times) < max_calls and time.perf_counter() - begin < seconds):
        _sync(device)
        start = time.perf_counter()
        call()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def inference_throughput(model: nn.Module, input_shape: tuple[int, ...], batch_size: int = 64,
                         seconds: float = 2.0, warmup: int = 3, device: str | torch.device = "cpu") -> float:
    """Clips per second at `batch_size`, from the median forward pass on random input.

    `input_shape` is one clip's shape, e.g. (C, T, V, M); the batch is
    (batch_size, *input_shape).  Passes repeat for about `seconds` (at least 3)
    after `warmup` passes; the median resists other processes' load better than the mean.
    """
    device = torch.device(device)
    model = model.to(device)
    inputs = _random_input(input_shape, batch_size, device)
    with _EvalMode(model), torch.inference_mode():
        for _ in range(warmup):
            model(inputs)
        times = timed_calls(lambda: model(inputs), seconds, device=device)
    return batch_size / statistics.median(times)


def inference_latency_ms(model: nn.Module, input_shape: tuple[int, ...], repeats: int = 50, warmup: int = 5,
                         device: str | torch.device = "cpu") -> float:
    """Median milliseconds of one forward pass on a single clip (batch 1) shaped `input_shape`."""
    device = torch.device(device)
    model = model.to(device)
    inputs = _random_input(input_shape, 1, device)
    with _EvalMode(model), torch.inference_mode():
        for _ in range(warmup):
            model(inputs)
        times = timed_calls(lambda: model(inputs), seconds=0.0, min_calls=repeats, device=device)
    return 1000.0 * statistics.median(times)


def environment() -> dict:
    """Versions, CPU count, torch threads and the current load average (None where unknown)."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpu_native_bf16": cpu_has_native_bf16(),
        "load_average_1_5_15min": load,
    }
