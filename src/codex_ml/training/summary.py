"""The end of a run: ``summary.json`` and the table the user reads last."""
from __future__ import annotations

from typing import Any

from codex_ml.training.progress import print_table
from codex_ml.training.rundir import Run


def _drop(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("step", "split")}


def table_rows(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary flattened to what fits a two-column table."""
    rows: dict[str, Any] = {k: summary[k] for k in ("run_dir", "model", "trainer", "steps",
                                                     "world_size", "device") if k in summary}
    first, final = summary.get("first_eval") or {}, summary.get("final_eval") or {}
    for key, value in final.items():
        rows[f"val {key}"] = (f"{first[key]:.4g} -> {value:.4g}"
                              if isinstance(first.get(key), float) and first is not final else value)
    for key in ("tokens_per_sec", "train_seconds", "checkpoint"):
        if summary.get(key) is not None:
            rows[key.replace("_", " ")] = summary[key]
    report = summary.get("evaluation") or {}
    if "reward_model" in report:
        rows[f"reward ({report['reward_model']['plugin']})"] = report["reward_model"]["mean"]
    if "rl_agent" in report:
        rows[f"rollout ({report['rl_agent']['plugin']})"] = report["rl_agent"]["actions"]
    return rows


def finish_run(parts: Any, run: Run, history: list[dict[str, Any]], report: dict[str, Any],
               extra: dict[str, Any]) -> dict[str, Any]:
    """Write ``summary.json``, print the table, return the summary."""
    from codex_ml.training.checkpoint import pointed_folder

    latest = pointed_folder(run.checkpoints)
    summary = {
        "run_dir": str(run.path),
        "model": parts.cfg.get("model", {}).get("name"),
        "trainer": parts.choice.name,
        "steps": parts.settings.max_steps,
        "first_eval": _drop(history[0]) if history else {},
        "final_eval": _drop(history[-1]) if history else {},
        "checkpoint": str(latest) if latest is not None else None,
        **extra,
        "evaluation": report,
    }
    run.write_json("summary.json", summary)
    print_table(f"codex-ml train: {run.path}", table_rows(summary))
    return summary
