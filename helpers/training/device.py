"""Where a model runs: the device, mixed precision on CUDA, and how batches reach the device.

A device is named `auto` (CUDA when available, else CPU), `cpu`, `cuda` or
`cuda:N`, in `train.device` or a command's `--device`.  On CUDA, training runs
under automatic mixed precision (`train.amp`): bfloat16 where the GPU supports
it, else float16 with a gradient scaler.  On CPU it runs in float32, or with
`train.cpu_bf16` under bfloat16 autocast (matrix products and convolutions in
bfloat16, weights, normalisation and the loss in float32), which pays on CPUs
with native bfloat16 arithmetic (AVX512-BF16 or AMX) and is refused elsewhere.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch

from helpers.config_rules import DEVICE_PATTERN  # the one spelling of a device name (also train.device's rule)
from helpers.errors import UserInputError

MAX_AUTO_WORKERS = 4  # DataLoader workers per process on CUDA when train.num_workers is -1


def check_device_name(name: str, where: str = "train.device") -> str:
    """`name` if it is auto, cpu, cuda or cuda:N; else a UserInputError naming `where`."""
    if not isinstance(name, str) or not DEVICE_PATTERN.fullmatch(name):
        raise UserInputError(f"{where}: {name!r} is not a device; use auto, cpu, cuda or cuda:N")
    return name


def pick_device(name: str = "auto", local_rank: int | None = None, where: str = "train.device") -> torch.device:
    """The torch device named `name`.

    Under torchrun (`local_rank` given), `cuda` and `auto` mean this process's own
    GPU, cuda:<local_rank>; an explicit cuda:N is refused there, since every
    process would pick the same GPU.
    """
    check_device_name(name, where)
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UserInputError(f"{where}: {name!r} asks for CUDA, but torch {torch.__version__} sees no CUDA device "
                             "here; use cpu or auto")
    index = int(name.partition(":")[2]) if ":" in name else None
    if local_rank is not None:
        if index is not None:
            raise UserInputError(f"{where}: {name!r} names one GPU, but under torchrun each process uses its own "
                                 "(cuda:LOCAL_RANK); use cuda or auto")
        index = local_rank
    index = torch.cuda.current_device() if index is None else index
    if index >= torch.cuda.device_count():
        raise UserInputError(f"{where}: cuda:{index} does not exist; this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    return torch.device("cuda", index)


@dataclass(frozen=True)
class Precision:
    """The arithmetic of a training step: float32, or autocast to bfloat16/float16 on CUDA."""

    device_type: str
    dtype: torch.dtype | None = None  # autocast dtype; None = float32 throughout

    @property
    def name(self) -> str:
        return {None: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}[self.dtype]

    def autocast(self):
        """A context in which the forward pass runs at this precision."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """A gradient scaler, enabled for float16 only (bfloat16 has float32's range and needs none);
        a disabled scaler passes losses and steps through unchanged."""
        return torch.amp.GradScaler(self.device_type, enabled=self.dtype == torch.float16)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (oneDNN's check: AVX512-BF16 or AMX)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def pick_precision(device: torch.device, amp: bool, cpu_bf16: bool = False) -> Precision:
    """The precision of a training step on `device`.

    CUDA with `amp`: bfloat16 if supported, else float16.  CPU with `cpu_bf16`:
    bfloat16 autocast; a CPU without native bfloat16 would run it emulated, many
    times slower, so that is a UserInputError naming `train.cpu_bf16`.  Otherwise float32.
    """
    if device.type == "cuda":
        if not amp:
            return Precision("cuda")
        return Precision("cuda", torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    if cpu_bf16 and device.type == "cpu":
        if not cpu_has_native_bf16():
            raise UserInputError("train.cpu_bf16: this CPU has no native bfloat16 arithmetic (AVX512-BF16 or AMX); "
                                 "bfloat16 would be emulated and slower than float32: set train.cpu_bf16=false")
        return Precision("cpu", torch.bfloat16)
    return Precision(device.type)


def loader_workers(device: torch.device, num_workers: int) -> int:
    """DataLoader worker processes: `num_workers`, or with -1 a choice by device.

    CPU: 0, since without augmentation every clip is preprocessed up front and
    workers would only compete with the model for the same cores.  CUDA: up to
    MAX_AUTO_WORKERS per process, sharing the cores among torchrun's processes.
    """
    if num_workers >= 0:
        return num_workers
    if device.type != "cuda":
        return 0
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    return max(1, min(MAX_AUTO_WORKERS, (os.cpu_count() or 1) // local_processes))


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """`tensor` on `device`; from pinned memory to CUDA the copy is asynchronous (non-blocking)."""
    return tensor.to(device, non_blocking=device.type == "cuda")
