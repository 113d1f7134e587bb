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
        report["reward_model"] = {"plugin": parts.cfg["reward_model"]["plugin"],
                                  **reward_scores(reward_model, evidence.prompts, evidence.samples)}
    agent = components.build_optional(parts.cfg, "rl_agent")
    if agent is not None:
        observations = evidence.prompts or parts.splits.val_texts[: es.num_samples]
        report["rl_agent"] = {"plugin": parts.cfg["rl_agent"]["plugin"],
                              **rollout(agent, observations, reward_model)}
    return report


def evaluate(cfg: Any, overrides: list[str] | None = None) -> dict[str, Any]:
    """Evaluate a run (``run_dir=...``) or the configured model; write and return the report.

    ``overrides``: the command line's overrides (``codex-ml evaluate`` passes
    Hydra's); a data override there evaluates that data instead of the run's.
    """
    from codex_ml.training import evalrun
    from codex_ml.training.jobs import build_parts, is_torch_model, plain_config
    from codex_ml.training.rundir import Run
    from codex_ml.training.runs import select_checkpoint

    cfg = plain_config(cfg)
    run_dir = Path(cfg["run_dir"]) if cfg.get("run_dir") else None
    es = eval_settings(cfg)
    plan = evalrun.RunEval(cfg, {"name": (cfg.get("dataset_loader") or {}).get("name"),
                                 "path": (cfg.get("dataset_loader") or {}).get("path"),
                                 "source": "the config"})
    if run_dir is not None:
        plan = evalrun.run_config(cfg, run_dir, list(overrides or []), es.allow_changed)
    parts = build_parts(plan.cfg)
    if is_torch_model(parts.model):
        from codex_ml.training.lm import evaluate_model
        required: tuple[str, ...] = ("model.safetensors",)
    else:
        from codex_ml.training.tiny import evaluate_model
        required = ("model.json",)
    folder = (select_checkpoint(run_dir, cfg.get("checkpoint"), required)
              if run_dir is not None else None)
    metrics, sampler, source = evaluate_model(parts, es, folder)
    report = {"model": parts.cfg["model"].get("name"), "weights": source, "data": plan.data,
              "overrides": list(overrides or []), "artefacts_changed": plan.changed,
              **final_report(parts, metrics, sampler, es)}
    path = evalrun.output_path(cfg, es.output)
    Run(path.parent).write_json(path.name, report)
    return {**report, "output": str(path), "notes": plan.notes}
