"""``codex_ml.registry.base.Registry`` (a documented path, docs/compatibility.md): the one Registry class."""

from __future__ import annotations

from ._registry import Registry

__all__ = ["Registry"]
