"""Metrics of the offline catalogue, pure Python (no torch, no numpy).

Call convention: ``metric(predictions, targets=None, **kwargs) -> float``.
Tensors and arrays are accepted wherever lists are (anything with ``tolist()``).
"""

from __future__ import annotations

from codex_ml.metrics.diversity import distinct_1, distinct_2, distinct_n
from codex_ml.metrics.squad import exact_match, f1, normalize_answer
from codex_ml.metrics.token import perplexity, token_accuracy
from codex_ml.metrics.weighted import WeightedAccuracy, build_weighted_accuracy

__all__ = [
    "WeightedAccuracy",
    "build_weighted_accuracy",
    "distinct_1",
    "distinct_2",
    "distinct_n",
    "exact_match",
    "f1",
    "normalize_answer",
    "perplexity",
    "token_accuracy",
]
