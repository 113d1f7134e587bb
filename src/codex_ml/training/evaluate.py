"""``evaluate(cfg)``: report a trained run (or a named model) and write it as JSON.

``codex-ml evaluate run_dir=runs/x`` rebuilds the model, tokenizer and data
from the run's own ``config.yaml``, loads its latest checkpoint and reports
loss, perplexity and the configured metrics on the held-out split. What to
report comes from the current command line (``metrics``, ``reward_model``,
``rl_agent``, ``evaluate``), so one run can be scored in several ways.
Without ``run_dir`` the model named by the config is evaluated as built
(pretrained weights for a Hugging Face checkpoint, random ones otherwise).

Generated samples (greedy continuations of held-out lines) are scored by the
reward model when ``reward_model.plugin`` is set, and the RL agent given by
``rl_agent.plugin`` is rolled out on the same prompts.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
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

# What `evaluate run_dir=...` takes from the command line; the rest comes from the run.
EVAL_KEYS = ("metrics", "reward_model", "rl_agent", "evaluate", "run_dir")
Sampler = Callable[[str, int], str]


@dataclass(frozen=True)
class EvalSettings:
    """The ``evaluate`` section of the config."""

    max_batches: int = 0  # 0: the whole held-out split
    num_samples: int = 4
    max_new_tokens: int = 32
    prompt_words: int = 3
    output: str | None = None  # default: <run_dir>/eval.json


def eval_settings(cfg: dict[str, Any]) -> EvalSettings:
    values = components.section(cfg, "evaluate")
    known = [f.name for f in fields(EvalSettings)]
    for key, value in values.items():
        if key not in known:
            raise TrainingConfigError(f"unknown setting evaluate.{key}.{did_you_mean(key, known)} "
                                      f"Known settings: {', '.join(known)}.")
        if key != "output" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
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
        report["reward_model"] = {"plugin": parts.cfg["reward_model"]["plugin"],
                                  **reward_scores(reward_model, evidence.prompts, evidence.samples)}
    agent = components.build_optional(parts.cfg, "rl_agent")
    if agent is not None:
        observations = evidence.prompts or parts.splits.val_texts[: es.num_samples]
        report["rl_agent"] = {"plugin": parts.cfg["rl_agent"]["plugin"],
                              **rollout(agent, observations, reward_model)}
    return report


def with_run_config(cfg: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The run's own config, with what to report taken from ``cfg``."""
    from codex_ml.training.rundir import read_config

    merged = read_config(run_dir)
    merged.update({k: cfg[k] for k in EVAL_KEYS if k in cfg})
    return merged


def output_path(cfg: dict[str, Any], es: EvalSettings) -> Path:
    if es.output:
        return Path(es.output)
    if cfg.get("run_dir"):
        return Path(cfg["run_dir"]) / "eval.json"
    out_dir = (cfg.get("training") or {}).get("output_dir") or "runs"
    return Path(out_dir) / f"eval-{time.strftime('%Y%m%d-%H%M%S')}.json"


def evaluate(cfg: Any) -> dict[str, Any]:
    """Evaluate a run (``run_dir=...``) or the configured model; write and return the report."""
    from codex_ml.training.jobs import build_parts, is_torch_model, plain_config

    cfg = plain_config(cfg)
    run_dir = Path(cfg["run_dir"]) if cfg.get("run_dir") else None
    if run_dir is not None:
        cfg = with_run_config(cfg, run_dir)
    parts, es = build_parts(cfg), eval_settings(cfg)
    if is_torch_model(parts.model):
        from codex_ml.training.lm import evaluate_model
    else:
        from codex_ml.training.tiny import evaluate_model
    metrics, sampler, source = evaluate_model(parts, es, run_dir)
    report = {"model": parts.cfg["model"].get("name"), "weights": source,
              **final_report(parts, metrics, sampler, es)}
    path = output_path(cfg, es)
    from codex_ml.training.rundir import Run

    Run(path.parent).write_json(path.name, report)
    report["output"] = str(path)
    return report
