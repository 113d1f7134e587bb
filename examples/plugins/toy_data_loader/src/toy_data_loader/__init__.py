"""A map-style dataset of the numbers 0..n-1 with their squares."""

from __future__ import annotations

import os

# Tests prove laziness with this side effect: the module appends its name to
# $CODEX_TOY_IMPORT_LOG when (and only when) it is imported.
if os.environ.get("CODEX_TOY_IMPORT_LOG"):
    with open(os.environ["CODEX_TOY_IMPORT_LOG"], "a", encoding="utf-8") as _log:
        _log.write(__name__ + "\n")


class ToyNumbers:
    def __init__(self, n: int = 10) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, idx: int) -> dict[str, int]:
        if not 0 <= idx < self.n:
            raise IndexError(idx)
        return {"x": idx, "y": idx * idx}
