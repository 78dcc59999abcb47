"""Distributed data parallel training: process group setup from ``torchrun``'s environment.

Under ``torchrun --nproc_per_node N ...`` every process sees ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE``; :func:`setup` then joins the process group
(NCCL on GPUs, gloo on CPUs) and picks this process's device. Started plainly
(``WORLD_SIZE`` unset or 1) it does nothing and training runs in one process.

The data split is the batch sampler's business: every rank draws the same
batches from the shared seed and keeps ``batches[rank::world_size]``
(:class:`asr.data.DurationBucketSampler`), which is what ``DistributedSampler``
does for fixed-size batches.

Usage::

    ctx = setup("auto")
    model = wrap_model(model.to(ctx.device), ctx)
    ...
    loss_sum, count = all_reduce_sum([loss_sum, count], ctx)
    teardown(ctx)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["DistContext", "setup", "teardown", "wrap_model", "unwrap", "barrier", "all_reduce_sum", "pick_device"]


@dataclass(frozen=True)
class DistContext:
    """This process's place in training: rank, world size, local rank and device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """More than one process."""
        return self.world_size > 1


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda:<local_rank>`` when CUDA is available, else ``cpu``; other names as given.

    Raises:
        ValueError: CUDA asked for on a machine without a visible CUDA device.
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but no CUDA device is visible; use --device cpu or auto")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def setup(device: str = "auto") -> DistContext:
    """Join the process group when ``WORLD_SIZE > 1`` (env:// rendezvous from torchrun).

    Args:
        device: ``auto``, ``cpu`` or ``cuda``; with CUDA each process takes
            GPU ``LOCAL_RANK``.

    Returns:
        The :class:`DistContext` (rank 0 of 1 without torchrun).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, device=dev)


def teardown(ctx: DistContext) -> None:
    """Leave the process group (if :func:`setup` joined one).

    All ranks meet at a barrier first: a gloo rank that destroys its group while
    a peer is still sending aborts the peer ("terminate called without an active
    exception", seen about one run in five on two CPU processes).
    """
    if ctx.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def wrap_model(model: nn.Module, ctx: DistContext) -> nn.Module:
    """``DistributedDataParallel(model)`` when distributed, else ``model``.

    DDP broadcasts rank 0's parameters and buffers (CMVN statistics included)
    to every rank when it wraps the model.
    """
    if not ctx.distributed:
        return model
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (or ``model`` itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op in one process)."""
    if ctx.distributed:
        dist.barrier()


def all_reduce_sum(values: Sequence[float], ctx: DistContext) -> list[float]:
    """Sum floats over ranks (identity in one process)."""
    if not ctx.distributed:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.tolist()
