"""The metric itself: metrics are registered as plain callables."""

from __future__ import annotations

import os

# Tests prove laziness with this side effect: the module appends its name to
# $CODEX_TOY_IMPORT_LOG when (and only when) it is imported.
if os.environ.get("CODEX_TOY_IMPORT_LOG"):
    with open(os.environ["CODEX_TOY_IMPORT_LOG"], "a", encoding="utf-8") as _log:
        _log.write(__name__ + "\n")


def toy_score(predictions: list[object], targets: list[object] | None = None, **kwargs: object) -> float:
    """Fraction of positions where prediction equals target (deterministic)."""
    if targets is None or not predictions:
        return 0.0
    pairs = list(zip(predictions, targets))
    return sum(p == t for p, t in pairs) / len(pairs)
