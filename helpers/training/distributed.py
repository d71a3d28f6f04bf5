"""Training on several processes started by torchrun: the process group and what the ranks share.

`torchrun --nproc_per_node N -m helpers.train ...` starts N copies of the train
command and sets RANK, LOCAL_RANK and WORLD_SIZE (and a rendezvous) in their
environment; with WORLD_SIZE above 1 the training loop joins the process group
(backend nccl on CUDA, gloo on CPU) and the model is wrapped in
DistributedDataParallel, which averages gradients over the ranks.  Each rank
trains on its own share of the clips (a DistributedSampler, seeded and
reshuffled every epoch) and validates its share of the validation clips; the
shares are gathered so that every rank computes the same metrics and agrees on
the best epoch.  Rank 0 alone prints and writes files.  A plain `python -m`
run (and the notebooks) is a world of one process, with none of this.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset, DistributedSampler


def torchrun_environment() -> tuple[int, int, int]:
    """(rank, local rank, world size) from the environment torchrun sets; (0, 0, 1) outside torchrun."""
    return (int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)),
            int(os.environ.get("WORLD_SIZE", 1)))


def launched_by_torchrun() -> bool:
    return torchrun_environment()[2] > 1


@dataclass
class World:
    """This process's place among the training processes, and the collectives the loop uses.

    With one process every method is the identity, so the loop has one code path.
    """

    rank: int = 0
    local_rank: int = 0
    size: int = 1
    device: torch.device = torch.device("cpu")   # where collective tensors live (CUDA for nccl)
    owns_group: bool = False                     # this World initialised the process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sums over the ranks of a list of numbers (float64)."""
        if not self.distributed:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def all_finite(self, loss: torch.Tensor) -> bool:
        """Whether the loss is finite on every rank (so all ranks stop together, none waits forever)."""
        finite = bool(torch.isfinite(loss.detach()).all())
        if not self.distributed:
            return finite
        flag = torch.tensor([1.0 if finite else 0.0], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        return bool(flag.item())

    def gather_equal(self, tensor: torch.Tensor) -> torch.Tensor:
        """The ranks' tensors of equal shape (n, ...) concatenated in rank order: (size * n, ...)."""
        if not self.distributed:
            return tensor
        local = tensor.to(self.device).contiguous()
        parts = [torch.empty_like(local) for _ in range(self.size)]
        dist.all_gather(parts, local)
        return torch.cat(parts).to(tensor.device)

    def gather_shards(self, shard: torch.Tensor, total: int) -> torch.Tensor:
        """Rows (total, ...) from each rank's `shard` of rows rank, rank + size, ... (see `shard_indices`)."""
        if not self.distributed:
            return shard
        width = -(-total // self.size)  # ceil: the largest shard; smaller ones are padded to it
        padded = torch.zeros((width, *shard.shape[1:]), dtype=shard.dtype)
        padded[: len(shard)] = shard
        parts = self.gather_equal(padded).reshape(self.size, width, *shard.shape[1:])
        rows = torch.empty((total, *shard.shape[1:]), dtype=shard.dtype)
        for rank in range(self.size):
            count = len(range(rank, total, self.size))
            rows[rank::self.size] = parts[rank, :count]
        return rows

    def gather_objects(self, value) -> list:
        """Every rank's `value` (picklable), in rank order."""
        if not self.distributed:
            return [value]
        values = [None] * self.size
        dist.all_gather_object(values, value)
        return values

    def shard_indices(self, count: int) -> list[int]:
        """This rank's share of `count` items: rank, rank + size, ..."""
        return list(range(self.rank, count, self.size))

    def sync_buffers(self, model: nn.Module) -> None:
        """Give every rank rank 0's buffers (BatchNorm running statistics, updated by each rank on its own
        batches), so that all ranks validate the model rank 0 saves."""
        if self.distributed:
            for buffer in model.buffers():
                dist.broadcast(buffer.data, src=0)

    def wrap(self, model: nn.Module) -> nn.Module:
        """`model` in DistributedDataParallel (which broadcasts rank 0's weights), or as it is alone."""
        if not self.distributed:
            return model
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def sampler(self, dataset: Dataset, seed: int) -> DistributedSampler | None:
        """This rank's share of `dataset`, reshuffled each epoch from (seed, epoch); None alone (the
        loader then shuffles with its own generator)."""
        if not self.distributed:
            return None
        return DistributedSampler(dataset, num_replicas=self.size, rank=self.rank, shuffle=True, seed=seed)

    def close(self) -> None:
        """Leave the process group if this World joined it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False


def join_world(device: torch.device) -> World:
    """This process's World: joins torchrun's process group (nccl on CUDA, gloo on CPU) when WORLD_SIZE > 1."""
    rank, local_rank, size = torchrun_environment()
    if size == 1:
        return World()
    if device.type == "cuda":
        torch.cuda.set_device(device)
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return World(rank, local_rank, size, device if device.type == "cuda" else torch.device("cpu"), owns)


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside DistributedDataParallel (what checkpoints store), or `model` itself."""
    return model.module if isinstance(model, DistributedDataParallel) else model
