"""Batches of token windows: deterministic, resumable and shardable (torch).

The training stream is cut into windows of ``block_size + 1`` tokens (input
plus the target shifted by one) every ``stride`` tokens. Which windows form
optimizer step ``s`` is a pure function of ``s``: the epoch's order comes
from a ``DistributedSampler`` seeded with ``seed + epoch``. Hence a resumed
run sees exactly the batches the killed one would have, and N data-parallel
ranks together see exactly the global batch one process sees.
"""
from __future__ import annotations

import torch

from codex_ml.training.data import require_tokens
from codex_ml.training.distributed import DistContext, make_sampler
from codex_ml.training.errors import TrainingConfigError

Batch = tuple[torch.Tensor, torch.Tensor]


def windows(ids: list[int], block_size: int, stride: int) -> torch.Tensor:
    """``[n_windows, block_size + 1]`` view over the token stream."""
    return torch.tensor(ids, dtype=torch.long).unfold(0, block_size + 1, max(stride, 1))


class TrainBatches:
    """``get(step, micro)``: this rank's micro-batch ``micro`` of optimizer step ``step``."""

    def __init__(self, ids: list[int], block_size: int, stride: int, micro_batch: int,
                 accum_steps: int, ctx: DistContext, seed: int) -> None:
        require_tokens(ids, block_size + 1, "training")
        self.windows = windows(ids, block_size, stride)
        self.sampler = make_sampler(len(self.windows), ctx, seed)
        self.batch_size, self.accum_steps, self.device = micro_batch, accum_steps, ctx.device
        per_step = micro_batch * accum_steps  # this rank's share of one optimizer step
        self.steps_per_epoch = len(self.sampler) // per_step
        if self.steps_per_epoch == 0:
            raise TrainingConfigError(
                f"the training split has {len(self.windows)} windows of {block_size + 1} tokens, "
                f"fewer than one batch (training.batch_size = {per_step * ctx.world_size}). Lower "
                "training.batch_size or dataset_loader.stride, or use a larger corpus.")
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)

    def _order_for(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            self.sampler.set_epoch(epoch)
            self._epoch, self._order = epoch, torch.tensor(list(self.sampler), dtype=torch.long)
        return self._order

    def get(self, step: int, micro: int) -> Batch:
        epoch, within = divmod(step, self.steps_per_epoch)
        start = (within * self.accum_steps + micro) * self.batch_size
        chunk = self.windows[self._order_for(epoch)[start:start + self.batch_size]]
        return _to_device(chunk, self.device)


def _to_device(chunk: torch.Tensor, device: torch.device) -> Batch:
    x, y = chunk[:, :-1], chunk[:, 1:]
    if device.type == "cuda":
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x.contiguous(), y.contiguous()  # a copy costs less than strided kernels downstream


def eval_batches(ids: list[int], block_size: int, batch_size: int, max_batches: int,
                 device: torch.device) -> list[Batch]:
    """Non-overlapping validation windows in order; ``max_batches=0`` keeps them all."""
    require_tokens(ids, block_size + 1, "validation")
    all_windows = windows(ids, block_size, block_size)
    chunks = list(torch.split(all_windows, batch_size))
    return [_to_device(c, device) for c in (chunks[:max_batches] if max_batches else chunks)]
