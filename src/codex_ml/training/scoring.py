"""Feeding evaluation evidence to the configured metrics, and to reward models and agents.

A metric's ``inputs`` (in the ``metrics`` config) says which evidence it takes,
following each catalogue metric's call convention:

==============  ===========================================================
nll             per-token negative log-likelihoods (``ppl``)
token_ids       predicted and target token ids (``accuracy@token``)
token_strings   predicted and target tokens as text (``offline:weighted-accuracy``)
texts           generated continuations and the reference ones (``exact_match``, ``f1``)
samples         generated continuations only (``dist-1``, ``dist-2``)
==============  ===========================================================

Pure Python: the torch and tiny-model paths both fill an :class:`Evidence`.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codex_ml.training.errors import TrainingConfigError

INPUT_KINDS = ("nll", "token_ids", "token_strings", "texts", "samples")
GENERATIVE = ("texts", "samples")


@dataclass
class Evidence:
    """What an evaluation saw; the generative parts are filled only when something needs them."""

    nll: list[float] = field(default_factory=list)
    predictions: list[int] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    id_to_text: Callable[[int], str] = str
    prompts: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)

    @property
    def loss(self) -> float:
        return sum(self.nll) / len(self.nll) if self.nll else math.nan

    @property
    def perplexity(self) -> float:
        try:
            return math.exp(self.loss)
        except OverflowError:
            return math.inf


def token_text(tokenizer: Any) -> Callable[[int], str]:
    """One token id as text, special tokens spelled out (so ``<unk>`` never equals ``<pad>``)."""
    def text(i: int) -> str:
        try:
            return str(tokenizer.decode([i], skip_special_tokens=False))
        except TypeError:  # a plugin tokenizer whose decode takes only the ids
            return str(tokenizer.decode([i]))

    return text


def check_kinds(metrics: Mapping[str, tuple[Any, str]]) -> None:
    for key, (_, kind) in metrics.items():
        if kind not in INPUT_KINDS:
            raise TrainingConfigError(
                f"metrics.{key}.inputs={kind!r} is not an evaluation input; use one of "
                f"{', '.join(INPUT_KINDS)}.")


def needs_generation(metrics: Mapping[str, tuple[Any, str]]) -> bool:
    return any(kind in GENERATIVE for _, kind in metrics.values())


def _arguments(kind: str, ev: Evidence) -> tuple[Any, ...]:
    if kind == "nll":
        return (ev.nll,)
    if kind == "token_ids":
        return (ev.predictions, ev.targets)
    if kind == "token_strings":
        return ([ev.id_to_text(i) for i in ev.predictions], [ev.id_to_text(i) for i in ev.targets])
    if kind == "texts":
        return (ev.samples, ev.references)
    return (ev.samples,)


def score(metrics: Mapping[str, tuple[Any, str]], ev: Evidence) -> dict[str, float]:
    """``loss``, ``perplexity`` and every configured metric, by its config key."""
    out = {"loss": ev.loss, "perplexity": ev.perplexity}
    for key, (fn, kind) in metrics.items():
        try:
            out[key] = float(fn(*_arguments(kind, ev)))
        except (TypeError, ValueError) as exc:
            raise TrainingConfigError(
                f"metric {key} ({getattr(fn, '__name__', type(fn).__name__)}) rejected its "
                f"{kind!r} inputs: {exc}. Set metrics.{key}.inputs to what it takes "
                f"({', '.join(INPUT_KINDS)}).") from exc
    return out


def prompts_from(texts: Sequence[str], count: int, prompt_words: int) -> tuple[list[str], list[str]]:
    """Split held-out lines into a prompt (first words) and the reference rest."""
    prompts, refs = [], []
    for text in texts:
        words = text.split()
        if len(words) > prompt_words:
            prompts.append(" ".join(words[:prompt_words]))
            refs.append(" ".join(words[prompt_words:]))
        if len(prompts) == count:
            break
    return prompts, refs


def reward_scores(reward_model: Any, prompts: Sequence[str], completions: Sequence[str]) -> dict[str, Any]:
    """Mean ``score(prompt, completion)`` of a reward model over the samples."""
    scores = [float(reward_model.score(p, c)) for p, c in zip(prompts, completions)]
    return {"mean": sum(scores) / len(scores) if scores else math.nan, "scores": scores}


def rollout(agent: Any, observations: Sequence[str], reward_model: Any = None) -> dict[str, Any]:
    """One step per observation: the agent acts, the reward model (if any) scores the action."""
    actions = [agent.act(obs) for obs in observations]
    report: dict[str, Any] = {"episodes": len(actions),
                              "actions": dict(Counter(str(a) for a in actions))}
    if reward_model is not None:
        rewards = [float(reward_model.score(o, str(a))) for o, a in zip(observations, actions)]
        report["mean_reward"] = sum(rewards) / len(rewards) if rewards else math.nan
    return report
