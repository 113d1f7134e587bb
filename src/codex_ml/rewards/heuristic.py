"""``offline:heuristic``: an in-memory reward model, no files needed.

``score(prompt, completion)`` is the weighted mean of three parts, each in
[0, 1], mapped to [-1, 1]:

* relevance: the share of the prompt's content words (longer than two letters)
  that the completion repeats (1.0 when the prompt has none);
* diversity: distinct words / words of the completion (penalises loops);
* length: ``min(words, target_words) / target_words``.

An empty (or whitespace-only) completion scores -1.0.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class HeuristicRewardModel:
    """Deterministic reward from relevance, diversity and length of the completion."""

    def __init__(
        self,
        *,
        target_words: int = 20,
        relevance_weight: float = 1.0,
        diversity_weight: float = 1.0,
        length_weight: float = 1.0,
    ) -> None:
        if isinstance(target_words, bool) or not isinstance(target_words, int) or target_words < 1:
            raise ValueError(f"target_words must be a positive integer, got {target_words!r}")
        weights = (relevance_weight, diversity_weight, length_weight)
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"weights must be >= 0 and not all zero, got {weights}")
        self.target_words = target_words
        self.weights = weights

    def parts(self, prompt: str, completion: str) -> tuple[float, float, float]:
        """``(relevance, diversity, length)``, each in [0, 1]."""
        words = _words(completion)
        content = {w for w in _words(prompt) if len(w) > 2}
        relevance = len(content & set(words)) / len(content) if content else 1.0
        diversity = len(set(words)) / len(words) if words else 0.0
        length = min(len(words), self.target_words) / self.target_words
        return relevance, diversity, length

    def score(self, prompt: str, completion: str) -> float:
        """Reward in [-1, 1]; -1.0 for an empty completion."""
        if not isinstance(prompt, str) or not isinstance(completion, str):
            raise TypeError("score(prompt, completion) takes two strings")
        if not _words(completion):
            return -1.0
        parts = self.parts(prompt, completion)
        mean = sum(w * p for w, p in zip(self.weights, parts)) / sum(self.weights)
        return 2.0 * mean - 1.0

    __call__ = score

    def __repr__(self) -> str:
        return f"HeuristicRewardModel(target_words={self.target_words}, weights={self.weights})"
