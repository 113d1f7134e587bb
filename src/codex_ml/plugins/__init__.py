"""Plugin-facing views of the registries (``codex_ml.plugins``, docs/guides/registries.md)."""

from __future__ import annotations

from codex_ml.plugins import registries

__all__ = ["registries"]
