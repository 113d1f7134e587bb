"""Token-level metrics: ``accuracy@token`` and ``ppl``."""

from __future__ import annotations

import math
from typing import Any

from codex_ml.metrics._inputs import flatten

IGNORE_INDEX = -100


def token_accuracy(
    predictions: Any, targets: Any = None, *, ignore_index: int = IGNORE_INDEX, **_: Any
) -> float:
    """Share of positions where the predicted token id equals the target id (``accuracy@token``).

    ``predictions`` and ``targets`` are token ids of the same shape (flat or
    nested lists, or tensors). Positions whose target is ``ignore_index``
    (default -100, the padding label) are skipped. Returns ``nan`` when no
    position counts.
    """
    if targets is None:
        raise ValueError("accuracy@token needs targets: the reference token ids")
    preds, golds = flatten(predictions), flatten(targets)
    if len(preds) != len(golds):
        raise ValueError(
            f"accuracy@token: predictions have {len(preds)} tokens but targets have {len(golds)}; "
            "pass ids of the same shape"
        )
    pairs = [(p, t) for p, t in zip(preds, golds) if t != ignore_index]
    if not pairs:
        return math.nan
    return sum(1 for p, t in pairs if p == t) / len(pairs)


def perplexity(predictions: Any, targets: Any = None, **_: Any) -> float:
    """``exp(mean NLL)`` of per-token natural-log negative log-likelihoods (``ppl``).

    ``predictions`` are the NLLs (``targets`` is unused). Returns ``nan`` for
    no tokens and ``inf`` when the mean is too large to exponentiate.
    """
    values = [float(v) for v in flatten(predictions)]
    if not values:
        return math.nan
    for v in values:
        if math.isnan(v) or v < 0:
            raise ValueError(f"ppl takes per-token negative log-likelihoods (>= 0), found {v}")
    mean = sum(values) / len(values)
    try:
        return math.exp(mean)
    except OverflowError:
        return math.inf
