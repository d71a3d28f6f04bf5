"""Reproducible runs: seeding, deterministic kernels, data-order generators, and RNG state to save and restore.

The project's own randomness goes through explicit generators (numpy Generators
in the transforms, a torch Generator for the data order); the global generators
of python, numpy and torch are seeded for everything else (weight initialisation,
dropout, third-party code).  Their states, saved with `rng_states` at the end of an
epoch and put back with `restore_rng_states`, let a resumed run draw exactly
the numbers the uninterrupted run would have drawn.
"""
from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's global generators (torch: CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)  # only for third-party code; the project itself passes Generators
    torch.manual_seed(seed)


def use_deterministic_algorithms(device: torch.device | str = "cpu") -> None:
    """Ask torch for deterministic kernels on CPU (warning, not failing, where an op has none).

    On CUDA the deterministic kernels are slower and need CUBLAS_WORKSPACE_CONFIG, so
    GPU runs keep torch's defaults: they are reproducible to rounding, not to the bit.
    """
    torch.use_deterministic_algorithms(torch.device(device).type == "cpu", warn_only=True)


def data_generator(seed: int) -> torch.Generator:
    """The generator of a DataLoader's shuffling and of its workers' seeds.

    No `worker_init_fn` is needed: torch seeds python, numpy and torch in every
    worker from a base seed this generator draws (plus the worker's number).
    """
    return torch.Generator().manual_seed(seed)


def rng_states(device: torch.device | str = "cpu") -> dict:
    """The global generators' states as plain types and tensors (loadable with weights_only=True)."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    states = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.device(device).type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def restore_rng_states(states: dict, device: torch.device | str = "cpu") -> None:
    """Put back the states `rng_states` returned; a CUDA state is restored only when running on CUDA."""
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy = states["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["position"],
                         numpy["has_gauss"], numpy["cached_gaussian"]))
    torch.set_rng_state(states["torch"])
    if torch.device(device).type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)
