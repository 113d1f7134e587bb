"""Plugin-facing views of the registries (seed 002's ``codex_ml.plugins``)."""

from __future__ import annotations

from codex_ml.plugins import registries

__all__ = ["registries"]
