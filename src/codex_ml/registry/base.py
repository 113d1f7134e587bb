"""``codex_ml.registry.base.Registry`` (seed 001's path): the one Registry class."""

from __future__ import annotations

from ._registry import Registry

__all__ = ["Registry"]
