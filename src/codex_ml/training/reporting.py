"""What every evaluation reports: settings, generated samples, reward model, agent rollout.

The training loops (:mod:`codex_ml.training.loop`, :mod:`codex_ml.training.tiny`)
report at the end of a run and ``codex-ml evaluate`` (:mod:`codex_ml.training.evaluate`)
reports on demand, both through :func:`final_report`. Generated samples (greedy
continuations of held-out lines) are scored by the reward model when
``reward_model.name`` is set, and the RL agent named by ``rl_agent.name`` is
rolled out on the same prompts.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from codex_ml.training import components
from codex_ml.training.errors import TrainingConfigError, did_you_mean
from codex_ml.training.scoring import (
    Evidence,
    needs_generation,
    prompts_from,
    reward_scores,
    rollout,
)

Sampler = Callable[[str, int], str]


@dataclass(frozen=True)
class EvalSettings:
    """The ``evaluate`` section of the config."""

    max_batches: int = 0  # 0: the whole held-out split
    num_samples: int = 4
    max_new_tokens: int = 32
    prompt_words: int = 3
    output: str | None = None  # default: <run_dir>/evals/<time>.json
    allow_changed: bool = False  # evaluate even if a file the run was trained on changed


def eval_settings(cfg: dict[str, Any]) -> EvalSettings:
    values = components.section(cfg, "evaluate")
    known = [f.name for f in fields(EvalSettings)]
    for key, value in values.items():
        if key not in known:
            raise TrainingConfigError(f"unknown setting evaluate.{key}.{did_you_mean(key, known)} "
                                      f"Known settings: {', '.join(known)}.")
        if key == "allow_changed" and not isinstance(value, bool):
            raise TrainingConfigError(f"evaluate.allow_changed must be true or false, found {value!r}.")
        if key not in ("output", "allow_changed") and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise TrainingConfigError(f"evaluate.{key} must be an integer >= 0, found {value!r}.")
    return EvalSettings(**values)


def _fill_samples(parts: Any, evidence: Evidence, sampler: Sampler, es: EvalSettings) -> None:
    prompts, refs = prompts_from(parts.splits.val_texts, es.num_samples, es.prompt_words)
    evidence.prompts, evidence.references = prompts, refs
    evidence.samples = [sampler(p, es.max_new_tokens) for p in prompts]


def periodic_samples(parts: Any, evidence: Evidence, sampler: Sampler, es: EvalSettings) -> None:
    """Generate only when a configured metric scores generated text."""
    if needs_generation(parts.metrics):
        _fill_samples(parts, evidence, sampler, es)


def final_report(parts: Any, last_eval: dict[str, Any], sampler: Sampler,
                 es: EvalSettings) -> dict[str, Any]:
    """Metrics, samples, reward-model scores and the agent rollout, as one JSON-able dict."""
    evidence = Evidence()
    _fill_samples(parts, evidence, sampler, es)
    report: dict[str, Any] = {
        "metrics": {k: v for k, v in last_eval.items() if k not in ("step", "split")},
        "samples": [{"prompt": p, "completion": c, "reference": r}
                    for p, c, r in zip(evidence.prompts, evidence.samples, evidence.references)],
    }
    reward_model = components.build_optional(parts.cfg, "reward_model")
    if reward_model is not None:
        report["reward_model"] = {"plugin": parts.cfg["reward_model"]["name"],
                                  **reward_scores(reward_model, evidence.prompts, evidence.samples)}
    agent = components.build_optional(parts.cfg, "rl_agent")
    if agent is not None:
        observations = evidence.prompts or parts.splits.val_texts[: es.num_samples]
        report["rl_agent"] = {"plugin": parts.cfg["rl_agent"]["name"],
                              **rollout(agent, observations, reward_model)}
    return report
