"""What a run folder records, read leniently for ``codex-ml report``.

A run folder (see ``codex_ml.training.rundir``) may hold ``config.yaml``,
``metrics.jsonl``, ``summary.json``, ``provenance.json``, ``eval.json`` and
``evals/*.json``; older or interrupted runs lack some of them. Each file is
read if present; a damaged one is noted (shown in the report) instead of
stopping the report. Run folders may come from other people: nothing read
here is executed, and YAML is read with ``safe_load``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ._kinds import CliError

RUN_FILES = ("config.yaml", "metrics.jsonl", "summary.json", "provenance.json", "eval.json")


def read_run(path: Path) -> dict[str, Any]:
    """Everything the report shows of one run folder; CliError when it is not one."""
    if not path.is_dir():
        raise CliError(f"{path} is not a folder. Fix: pass run folders that `codex-ml train` "
                       "printed (e.g. runs/20250101-120000).")
    if not any((path / f).is_file() for f in RUN_FILES):
        raise CliError(f"{path} is not a run folder: it holds none of {', '.join(RUN_FILES)}. Fix: "
                       "pass run folders that `codex-ml train` printed (e.g. runs/20250101-120000).")
    notes: list[str] = []
    return {"path": str(path), "name": path.name, "notes": notes,
            "config": _config(path / "config.yaml", notes),
            "metrics": read_jsonl(path / "metrics.jsonl", notes),
            "summary": _json(path / "summary.json", notes) or {},
            "provenance": _json(path / "provenance.json", notes) or {},
            "evals": read_evals(path, notes)}


def _json(file: Path, notes: list[str]) -> dict[str, Any] | None:
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        notes.append(f"{file.name} could not be read ({type(exc).__name__}: {exc}); left out.")
        return None
    if not isinstance(data, dict):
        notes.append(f"{file.name} does not hold a JSON object; left out.")
        return None
    return data


def _config(file: Path, notes: list[str]) -> dict[str, Any]:
    if not file.is_file():
        return {}
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]  # PyYAML comes with the cli extra
    except ImportError:
        notes.append("config.yaml not read: PyYAML is not installed (pip install 'codex-ml[cli]').")
        return {}
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8", errors="replace"))
    except (OSError, yaml.YAMLError) as exc:
        notes.append(f"config.yaml could not be read ({type(exc).__name__}); left out.")
        return {}
    if not isinstance(data, dict):
        return {}
    from codex_ml.training.confignames import canonical_names

    return canonical_names(data, warn=False)  # a run saved before the renames reads the same


def read_jsonl(file: Path, notes: list[str]) -> list[dict[str, Any]]:
    """The complete records of ``metrics.jsonl`` (a line cut short by a crash is skipped)."""
    if not file.is_file():
        return []
    rows, bad = [], 0
    for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(record, dict):
            rows.append(record)
    if bad:
        notes.append(f"metrics.jsonl: {bad} unreadable line(s) skipped.")
    return rows


def read_evals(path: Path, notes: list[str]) -> list[dict[str, Any]]:
    """Every evaluation of the run, oldest first: ``eval.json`` and ``evals/*.json``."""
    files = [path / "eval.json"] if (path / "eval.json").is_file() else []
    if (path / "evals").is_dir():
        files += sorted(p for p in (path / "evals").glob("*.json") if p.is_file())
    out = []
    for file in files:
        data = _json(file, notes)
        if data is not None:
            out.append({**data, "file": file.relative_to(path).as_posix()})
    return out


# ----------------------------------------------------------------- shaping
def number(value: Any) -> float | None:
    """A finite float, or None (strings like "nan" that JSON could not hold included)."""
    if isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def curve(records: list[dict[str, Any]], split: str, key: str) -> list[tuple[float, float]]:
    """``(step, value)`` of ``key`` in the records of one split, in step order."""
    points = []
    for r in records:
        step, value = number(r.get("step")), number(r.get(key))
        if r.get("split") == split and step is not None and value is not None:
            points.append((step, value))
    return sorted(points)


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """``{"training.learning_rate": "0.002", ...}``: nested config as dotted keys."""
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: json.dumps(data) if not isinstance(data, str) else data}


def config_diff(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keys whose values differ between runs (all keys when there is one run)."""
    flat = [flatten(r["config"]) for r in runs]
    keys = sorted(set().union(*flat)) if flat else []
    rows = []
    for key in keys:
        values = [f.get(key, "(absent)") for f in flat]
        if len(runs) == 1 or len(set(values)) > 1:
            rows.append({"key": key, "values": values})
    return rows


def samples(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Text samples of the latest evaluation, else of the training summary."""
    for ev in reversed(run["evals"]):
        if isinstance(ev.get("samples"), list) and ev["samples"]:
            return [s for s in ev["samples"] if isinstance(s, dict)]
    found = (run["summary"].get("evaluation") or {}).get("samples")
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []
