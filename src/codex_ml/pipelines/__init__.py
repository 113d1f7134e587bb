"""Pipelines: ``BasePipeline`` for plugin authors (docs/guides/registries.md)."""

from __future__ import annotations

from typing import Any

from codex_ml.registry._interfaces import abstract


class BasePipeline:
    """Optional base class for pipelines: needs ``run``."""

    def __init__(self, config: Any = None, **kwargs: Any) -> None:
        self.config = config
        self.options = kwargs

    @abstract
    def run(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement run()")


__all__ = ["BasePipeline"]
