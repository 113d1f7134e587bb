"""SQuAD-style answer metrics: ``exact_match`` and token ``f1``.

Answers are normalised as in the official SQuAD v1.1 evaluation script:
lower-cased, punctuation removed, the articles "a", "an", "the" removed, and
whitespace collapsed. A prediction is scored against each of its references
and the best score counts; the metric is the mean over examples.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable
from typing import Any

from codex_ml.metrics._inputs import as_texts, to_list

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and articles, collapse whitespace (SQuAD)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _em(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def _f1(prediction: str, reference: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _references(targets: Any, count: int) -> list[list[str]]:
    targets = to_list(targets)
    if isinstance(targets, str):
        refs: list[Any] = [targets]
    else:
        refs = list(targets)
    if len(refs) != count:
        raise ValueError(
            f"got {count} predictions but {len(refs)} references; pass one reference (or list) each"
        )
    return [as_texts(r, "each reference") for r in refs]


def _score(fn: Callable[[str, str], float], name: str, predictions: Any, targets: Any) -> float:
    if targets is None:
        raise ValueError(f"{name} needs targets: the reference answers")
    preds = as_texts(predictions, "predictions")
    refs = _references(targets, len(preds))
    if not preds:
        return 0.0
    for refs_i in refs:
        if not refs_i:
            raise ValueError(f"{name}: an example has an empty list of references")
    return sum(max(fn(p, r) for r in rs) for p, rs in zip(preds, refs)) / len(preds)


def exact_match(predictions: Any, targets: Any = None, **_: Any) -> float:
    """Share of predictions equal to a reference after normalisation (SQuAD EM, 0..1)."""
    return _score(_em, "exact_match", predictions, targets)


def f1(predictions: Any, targets: Any = None, **_: Any) -> float:
    """Mean token-overlap F1 between prediction and best reference (SQuAD F1, 0..1)."""
    return _score(_f1, "f1", predictions, targets)
