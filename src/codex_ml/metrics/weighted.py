"""``offline:weighted-accuracy``: accuracy where each example counts by the weight of its label.

The weights come from ``data/offline/weighted_accuracy.json`` (see
:mod:`codex_ml.catalogue.paths` for how the file is found)::

    {"weights": {"positive": 2.0, "negative": 2.0, "neutral": 1.0},
     "default_weight": 1.0, "case_sensitive": false}

``score = sum(w(t_i) * [p_i == t_i]) / sum(w(t_i))`` where ``w`` looks up the
*target* label (as a string) and falls back to ``default_weight``. A call may
pass ``weights=[...]`` (one per example) to override the label weights.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codex_ml.catalogue import paths
from codex_ml.catalogue.jsonfile import FixtureError, field, load_json_object, reject_unknown
from codex_ml.metrics._inputs import flatten

_WHAT = "weighted-accuracy weights"
_KEYS = ("weights", "default_weight", "case_sensitive", "description")


def _number(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


class WeightedAccuracy:
    """Callable metric ``(predictions, targets, weights=None) -> float``."""

    def __init__(
        self,
        weights: Mapping[str, float],
        *,
        default_weight: float = 1.0,
        case_sensitive: bool = False,
        source: str = "<memory>",
    ) -> None:
        bad = {k: v for k, v in weights.items() if not _number(v)}
        if bad or not _number(default_weight):
            raise ValueError(
                f"weighted accuracy ({source}): weights must be finite numbers >= 0, got {bad or default_weight}"
            )
        self.case_sensitive = case_sensitive
        self.weights = {self._key(k): float(v) for k, v in weights.items()}
        self.default_weight = float(default_weight)
        self.source = source

    def _key(self, label: object) -> str:
        text = str(label)
        return text if self.case_sensitive else text.lower()

    def weight_of(self, label: object) -> float:
        return self.weights.get(self._key(label), self.default_weight)

    def _same(self, pred: object, gold: object) -> bool:
        return pred == gold or self._key(pred) == self._key(gold)

    def __call__(
        self, predictions: Any, targets: Any = None, *, weights: Any = None, **_: Any
    ) -> float:
        if targets is None:
            raise ValueError("offline:weighted-accuracy needs targets: the reference labels")
        preds, golds = flatten(predictions), flatten(targets)
        if len(preds) != len(golds):
            raise ValueError(
                f"weighted accuracy: {len(preds)} predictions but {len(golds)} targets"
            )
        ws = (
            [self.weight_of(t) for t in golds]
            if weights is None
            else [float(w) for w in flatten(weights)]
        )
        if len(ws) != len(golds):
            raise ValueError(f"weighted accuracy: {len(ws)} weights for {len(golds)} examples")
        total = sum(ws)
        if total <= 0:
            return math.nan
        return sum(w for w, p, t in zip(ws, preds, golds) if self._same(p, t)) / total

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> WeightedAccuracy:
        file = Path(path)
        data = load_json_object(file, _WHAT)
        reject_unknown(data, _KEYS, file, _WHAT)
        weights = field(data, "weights", dict, file, _WHAT)
        default = field(data, "default_weight", (int, float), file, _WHAT, default=1.0)
        case = field(data, "case_sensitive", bool, file, _WHAT, default=False)
        try:
            return cls(weights, default_weight=default, case_sensitive=case, source=str(file))
        except ValueError as exc:
            raise FixtureError(f"{_WHAT} {file}: {exc}") from exc

    def __repr__(self) -> str:
        return f"WeightedAccuracy(weights={self.weights}, default_weight={self.default_weight})"


def build_weighted_accuracy(path: str | os.PathLike[str] | None = None) -> WeightedAccuracy:
    """Catalogue factory of ``offline:weighted-accuracy``: the metric built from the JSON weights."""
    return WeightedAccuracy.from_file(paths.resolve("weighted_accuracy", path))
