"""``codex-ml evaluate run_dir=R``: which config, files, weights and result file.

* The run's own ``config.yaml`` describes the model and tokenizer; what to
  report (``metrics``, ``reward_model``, ``rl_agent``, ``evaluate``) comes from
  the command line, and so does the data when it is overridden there
  (``data=lines dataset_loader.path=mine.txt``): the result says which.
* The files the run was trained on (``provenance.json``) are used, not
  whatever the environment points at today; a changed or moved one stops the
  evaluation unless ``evaluate.allow_changed=true`` (then the result records it).
* ``checkpoint=latest|best|step-000100`` picks the weights; ``best`` is the
  checkpoint with the lowest validation loss logged during training.
* Every evaluation writes its own ``evals/<time>.json``, never over another.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_ml.training import provenance

# What `evaluate run_dir=...` takes from the command line; the rest comes from the run.
EVAL_KEYS = ("metrics", "reward_model", "rl_agent", "evaluate", "run_dir", "checkpoint")
DATA_KEYS = ("data", "dataset_loader")
# Taken from the command line too: where to evaluate, and whether to stay offline.
RUN_TIME_KEYS = ("training.device", "interfaces")


@dataclass
class RunEval:
    """The config to evaluate a run with, and what the result file should say about it."""

    cfg: dict[str, Any]
    data: dict[str, Any]
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _full_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _override_key(override: str) -> str:
    return _full_key(override).split(".", 1)[0]


def _sets(override: str, key: str) -> bool:
    """``override`` sets ``key`` or something below it."""
    full = _full_key(override)
    return full == key or full.startswith(key + ".")


def refuse_unused(overrides: list[str], run_dir: Path) -> None:
    """Overrides that ``evaluate run_dir=`` would not use are an error, never dropped unsaid."""
    from codex_ml.training.errors import TrainingConfigError

    usable = (*EVAL_KEYS, *DATA_KEYS, *RUN_TIME_KEYS)
    unused = [o for o in overrides if not any(_sets(o, k) for k in usable)]
    if unused:
        raise TrainingConfigError(
            f"run_dir={run_dir}: the model, tokenizer and training settings come from that run's own "
            f"config.yaml, so {', '.join(unused)} would not be used. Fix: drop "
            f"{'it' if len(unused) == 1 else 'them'} (evaluate without run_dir= scores a model built "
            "from the command line); the data, metrics, evaluate.*, checkpoint= and training.device "
            "may be given.")


def data_overridden(overrides: list[str]) -> bool:
    return any(_override_key(o) in DATA_KEYS for o in overrides)


def run_config(cfg: dict[str, Any], run_dir: Path, overrides: list[str],
               allow_changed: bool) -> RunEval:
    """The run's config with the command line's report keys (and data, when overridden)."""
    from codex_ml.training.runs import read_provenance, trained_config

    refuse_unused(overrides, run_dir)
    recorded = read_provenance(run_dir)
    merged = trained_config(run_dir, recorded)  # a data override replaces its pinned section below
    merged.update({k: cfg[k] for k in EVAL_KEYS if k in cfg})
    if any(_sets(o, "training.device") for o in overrides):
        merged["training"] = {**(merged.get("training") or {}), "device": cfg["training"]["device"]}
    if any(_sets(o, "interfaces") for o in overrides):
        merged["interfaces"] = cfg.get("interfaces")
    own_data = data_overridden(overrides)
    if own_data:
        merged["dataset_loader"] = cfg.get("dataset_loader") or {}
        recorded = {**recorded, "artefacts": {k: v for k, v in (recorded.get("artefacts") or {}).items()
                                              if k != "dataset_loader"}}
    changed = provenance.check_artefacts(run_dir, recorded, allow_changed)
    part = merged.get("dataset_loader") or {}
    data = {"name": part.get("name"), "path": part.get("path"),
            "source": "the command line" if own_data else "the run's own data (held-out split)"}
    notes = [f"evaluating on {data['name']} {data['path'] or ''} from the command line, not the "
             "run's training data".replace("  ", " ")] if own_data else []
    notes += [f"warning: {c} (evaluate.allow_changed=true)" for c in changed]
    return RunEval(merged, data, changed, notes)


def output_path(run_dir: Path | None, output_dir: str, output: str | None) -> Path:
    """``evaluate.output``, else a new ``<run_dir>/evals/<time>.json`` (or
    ``<training.output_dir>/eval-<time>.json`` without a run); never an existing file."""
    if output:
        return Path(output)
    # Microseconds, and "_NNN" after a clash ("_" sorts after "."): the names sort in the
    # order the evaluations ran, which is how readers of evals/ (the report) order them.
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now % 1 * 1e6):06d}"
    base = run_dir / "evals" / stamp if run_dir is not None else Path(output_dir) / f"eval-{stamp}"
    candidate, n = base.with_suffix(".json"), 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}_{n:03d}.json")
    return candidate
