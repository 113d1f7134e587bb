"""A pure-Python linear model: y = w * x + b, element-wise."""

from __future__ import annotations

import os

# Tests prove laziness with this side effect: the module appends its name to
# $CODEX_TOY_IMPORT_LOG when (and only when) it is imported.
if os.environ.get("CODEX_TOY_IMPORT_LOG"):
    with open(os.environ["CODEX_TOY_IMPORT_LOG"], "a", encoding="utf-8") as _log:
        _log.write(__name__ + "\n")


class ToyLinear:
    def __init__(self, weight: float = 2.0, bias: float = 0.0) -> None:
        self.weight, self.bias = weight, bias

    def forward(self, x: list[float]) -> list[float]:
        return [self.weight * v + self.bias for v in x]

    __call__ = forward
