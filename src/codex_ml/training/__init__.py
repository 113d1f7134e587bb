"""Training: ``BaseTrainer`` for plugin authors; the loop lives in submodules."""

from __future__ import annotations

from typing import Any

from codex_ml.registry._interfaces import abstract


class BaseTrainer:
    """Optional base class for trainers (seed 003): needs both step methods."""

    def __init__(self, config: Any = None, **kwargs: Any) -> None:
        self.config = config
        self.options = kwargs

    @abstract
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement training_step()")

    @abstract
    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement validation_step()")


__all__ = ["BaseTrainer"]
