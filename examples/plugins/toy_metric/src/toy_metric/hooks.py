"""Seed 000's hook style: the entry point receives the registry's register function."""

from __future__ import annotations

import os

# Tests prove laziness with this side effect: the module appends its name to
# $CODEX_TOY_IMPORT_LOG when (and only when) it is imported.
if os.environ.get("CODEX_TOY_IMPORT_LOG"):
    with open(os.environ["CODEX_TOY_IMPORT_LOG"], "a", encoding="utf-8") as _log:
        _log.write(__name__ + "\n")


def register(register_fn):  # type: ignore[no-untyped-def]
    register_fn("toy_weighted_accuracy", weighted_accuracy, description="accuracy with per-item weights")


def weighted_accuracy(predictions: list[object], targets: list[object], weights: list[float] | None = None) -> float:
    weights = weights or [1.0] * len(predictions)
    total = sum(weights)
    hits = sum(w for p, t, w in zip(predictions, targets, weights) if p == t)
    return hits / total if total else 0.0
