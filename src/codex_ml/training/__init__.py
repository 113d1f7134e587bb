"""Training: ``BaseTrainer`` for plugin authors; the loop lives in submodules."""

from __future__ import annotations

from typing import Any

from codex_ml.registry._interfaces import abstract


class BaseTrainer:
    """Optional base class for trainers (docs/guides/registries.md, "Interface checks"): needs both step methods."""

    def __init__(self, config: Any = None, **kwargs: Any) -> None:
        self.config = config
        self.options = kwargs

    @abstract
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement training_step()")

    @abstract
    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement validation_step()")


def __getattr__(name: str) -> Any:
    """``train(cfg)`` loads torch only when first asked for (evaluate: ``training.evaluate.evaluate``)."""
    if name == "train":
        from codex_ml.training.jobs import train

        return train
    raise AttributeError(f"module 'codex_ml.training' has no attribute {name!r}")


__all__ = ["BaseTrainer", "train"]
