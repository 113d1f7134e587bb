"""A kind of one's own: learning-rate schedules, in a registry the docs pick up."""

from __future__ import annotations

import math

from codex_ml.registry import Registry

schedulers = Registry("schedulers", entry_point_group="codex_ml.schedulers")


@schedulers.register("cosine", version="1.2", author="demo", tags=("lr", "cosine", "warmup"),
                     description="Cosine decay from base_lr to min_lr after a linear warmup.")
def cosine(step: int, total_steps: int, base_lr: float = 3e-4, min_lr: float = 0.0, warmup: int = 0) -> float:
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * min(progress, 1.0)))


@schedulers.register("constant", version="1.0", author="demo", tags=("lr",),
                     description="The same learning rate at every step.")
def constant(step: int, base_lr: float = 3e-4) -> float:
    return base_lr
