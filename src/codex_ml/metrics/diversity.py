"""Distinct-n: the share of unique n-grams among all n-grams of generated texts.

Texts are split on whitespace; n-grams do not cross text boundaries; counts
are pooled over all texts (corpus-level distinct-n, Li et al. 2016). Returns
0.0 when the texts contain no n-gram.
"""

from __future__ import annotations

from typing import Any

from codex_ml.metrics._inputs import as_texts


def distinct_n(predictions: Any, targets: Any = None, *, n: int = 1, **_: Any) -> float:
    """Unique n-grams / total n-grams over ``predictions`` (``targets`` unused)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"distinct-n needs a positive integer n, got {n!r}")
    total, unique = 0, set()
    for text in as_texts(predictions, "predictions"):
        words = text.split()
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        unique.update(grams)
    return len(unique) / total if total else 0.0


def _fixed_n(kwargs: dict[str, Any], n: int) -> None:
    given = kwargs.pop("n", n)
    if given != n:
        raise ValueError(f"dist-{n} counts {n}-grams; got n={given!r} (use distinct_n for other n)")


def distinct_1(predictions: Any, targets: Any = None, **kwargs: Any) -> float:
    """``dist-1``: distinct unigrams / unigrams."""
    _fixed_n(kwargs, 1)
    return distinct_n(predictions, targets, n=1, **kwargs)


def distinct_2(predictions: Any, targets: Any = None, **kwargs: Any) -> float:
    """``dist-2``: distinct bigrams / bigrams."""
    _fixed_n(kwargs, 2)
    return distinct_n(predictions, targets, n=2, **kwargs)
