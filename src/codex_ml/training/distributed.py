"""Data-parallel training on torch.distributed: DDP, gloo on CPU, NCCL on CUDA.

``torchrun --nproc_per_node=N -m codex_ml.cli train ...`` sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address; :func:`setup`
reads them and joins the group. A plain ``python -m codex_ml.cli train`` has
none of them and runs as a world of one, through the same code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from codex_ml.training.errors import TrainingConfigError


@dataclass(frozen=True)
class DistContext:
    """Who this process is in the job, and where its tensors live."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    backend: str | None  # None: a single process, no process group

    @property
    def is_main(self) -> bool:
        """Only rank 0 logs and writes files, so N processes make one run directory."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.backend is not None


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise TrainingConfigError(f"environment variable {name}={value!r} is not an integer; "
                                  "it is set by torchrun: launch through torchrun or unset it.")


def pick_device(preference: str, local_rank: int) -> torch.device:
    """``auto`` is CUDA (one GPU per local rank) when present, else the CPU."""
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    if preference.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainingConfigError(
                f"training.device={preference} but torch sees no CUDA device. "
                "Use training.device=cpu (or auto).")
        return torch.device("cuda", local_rank if preference == "cuda" else int(preference[5:]))
    if preference not in ("cpu", "mps"):
        raise TrainingConfigError(
            f"training.device={preference!r} is not a device; use auto, cpu, cuda or cuda:N.")
    if preference == "mps" and not torch.backends.mps.is_available():  # checked now, not at the first step
        raise TrainingConfigError("training.device=mps but torch sees no Apple GPU (MPS) here. "
                                  "Use training.device=cpu (or auto).")
    return torch.device(preference)


def setup(device_preference: str = "auto") -> DistContext:
    """Join the torchrun process group when launched by torchrun; else a world of one."""
    world_size = _env_int("WORLD_SIZE", 1)
    rank, local_rank = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    device = pick_device(device_preference, local_rank)
    if world_size <= 1:
        return DistContext(0, 0, 1, device, None)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistContext(rank, local_rank, world_size, device, backend)


def teardown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: torch.nn.Module, ctx: DistContext) -> torch.nn.Module:
    """DDP-wrap for a world of several; the bare model otherwise."""
    if not ctx.enabled:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def make_sampler(n_items: int, ctx: DistContext, seed: int) -> DistributedSampler[int]:
    """Shuffle once per epoch with ``seed`` and give each rank every N-th item.

    ``drop_last`` keeps shards equal without padding duplicates, so the union of
    the ranks' k-th batches is exactly a single process's k-th global batch.
    """
    indices: Any = range(n_items)  # the sampler only reads len() of its "dataset"
    return DistributedSampler(indices, num_replicas=ctx.world_size, rank=ctx.rank,
                              shuffle=True, seed=seed, drop_last=True)


def broadcast(obj: Any, ctx: DistContext) -> Any:
    """Rank 0's ``obj`` on every rank (the run name, chosen once)."""
    if not ctx.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()
