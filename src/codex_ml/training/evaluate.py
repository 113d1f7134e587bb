"""``evaluate(cfg)``: report a trained run (or a named model) and write it as JSON.

``codex-ml evaluate run_dir=runs/x`` rebuilds the model, tokenizer and data
from the run's own ``config.yaml``, loads its latest checkpoint and reports
loss, perplexity and the configured metrics on the held-out split. What to
report comes from the current command line (``metrics``, ``reward_model``,
``rl_agent``, ``evaluate``), so one run can be scored in several ways.
Without ``run_dir`` the model named by the config is evaluated as built
(pretrained weights for a Hugging Face checkpoint, random ones otherwise).

What the report holds (samples, reward model, agent rollout) is built by
:mod:`codex_ml.training.reporting`, shared with the end of a training run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_ml.training.reporting import (  # re-exported: their home before reporting.py
    EvalSettings,
    Sampler,
    eval_settings,
    final_report,
    periodic_samples,
)

__all__ = ["EvalSettings", "Sampler", "eval_settings", "evaluate", "final_report", "periodic_samples"]


def evaluate(cfg: Any, overrides: list[str] | None = None) -> dict[str, Any]:
    """Evaluate a run (``run_dir=...``) or the configured model; write and return the report.

    ``overrides``: the command line's overrides (``codex-ml evaluate`` passes
    Hydra's); a data override there evaluates that data instead of the run's.
    """
    from codex_ml.training import evalrun
    from codex_ml.training.jobs import build_parts, is_torch_model, prepare_config
    from codex_ml.training.rundir import Run
    from codex_ml.training.runs import select_checkpoint

    cfg = prepare_config(cfg, list(overrides or []))
    run_dir = Path(cfg["run_dir"]) if cfg.get("run_dir") else None
    es = eval_settings(cfg)
    plan = evalrun.RunEval(cfg, {"name": (cfg.get("dataset_loader") or {}).get("name"),
                                 "path": (cfg.get("dataset_loader") or {}).get("path"),
                                 "source": "the config"})
    if run_dir is not None:
        plan = evalrun.run_config(cfg, run_dir, list(overrides or []), es.allow_changed)
    parts = build_parts(plan.cfg, new_run=run_dir is None)
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
    path = evalrun.output_path(run_dir, parts.settings.output_dir, es.output)
    Run(path.parent).write_json(path.name, report)
    return {**report, "output": str(path), "notes": plan.notes}
