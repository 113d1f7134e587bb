"""Batches from a memory-mapped token stream: random windows, as nanoGPT samples ``train.bin``.

Which windows form micro-batch ``micro`` of optimizer step ``step`` is a
pure function of ``(seed, step, micro)``: a resumed run draws exactly the
windows the killed one would have, and N data-parallel ranks each take
their slice of the same global draw. In-memory token lists keep the
deterministic epoch order of :class:`codex_ml.training.batches.TrainBatches`.
"""
from __future__ import annotations

from typing import Any

import torch

from codex_ml.training.batches import Batch, TrainBatches, _to_device, eval_batches
from codex_ml.training.data import require_tokens
from codex_ml.training.distributed import DistContext
from codex_ml.training.token_cache import TokenStream

_STEP_MIX = 1_000_003  # seeds of neighbouring (seed, step) pairs never coincide


class StreamBatches:
    """``get(step, micro)``: this rank's random windows of ``block_size + 1`` tokens."""

    def __init__(self, stream: TokenStream, block_size: int, micro_batch: int, accum_steps: int,
                 ctx: DistContext, seed: int) -> None:
        require_tokens(stream, block_size + 2, "training")  # type: ignore[arg-type]
        self.stream, self.width = stream, block_size + 1
        self.batch_size, self.accum_steps, self.ctx, self.seed = micro_batch, accum_steps, ctx, seed

    def get(self, step: int, micro: int) -> Batch:
        draw = (self.seed * _STEP_MIX + step) * self.accum_steps + micro
        generator = torch.Generator().manual_seed(draw % (1 << 63))
        starts = torch.randint(len(self.stream) - self.width + 1,
                               (self.batch_size * self.ctx.world_size,), generator=generator)
        mine = starts[self.ctx.rank * self.batch_size:(self.ctx.rank + 1) * self.batch_size]
        rows = torch.from_numpy(self.stream.rows(mine.tolist(), self.width))
        return _to_device(rows, self.ctx.device)


def train_batches(ids: Any, block_size: int, stride: int, micro_batch: int, accum_steps: int,
                  ctx: DistContext, seed: int) -> TrainBatches | StreamBatches:
    """Random windows of a token stream, or strided windows of an in-memory list."""
    if isinstance(ids, TokenStream):
        return StreamBatches(ids, block_size, micro_batch, accum_steps, ctx, seed)
    return TrainBatches(ids, block_size, stride, micro_batch, accum_steps, ctx, seed)


def validation_batches(ids: Any, block_size: int, batch_size: int, max_batches: int,
                       device: torch.device) -> list[Batch]:
    """Non-overlapping validation windows; of a stream, only the tokens they need are read."""
    if isinstance(ids, TokenStream):
        needed = max_batches * batch_size * block_size + 1 if max_batches else 0
        ids = ids.head(needed)
    return eval_batches(ids, block_size, batch_size, max_batches, device)
