"""The run directory a user reads: ``runs/<name-or-timestamp>/``.

    config.yaml      the fully resolved config the run used
    metrics.jsonl    one JSON object per logged step (train) or evaluation (val)
    checkpoints/     see :mod:`codex_ml.training.checkpoint`
    summary.json     what the final table shows, with the final evaluation
    eval.json        the latest ``codex-ml evaluate run_dir=...`` of this run

Only the main process (rank 0) writes; the others get a :class:`Run` whose
writes do nothing, so the loop needs no ``if rank == 0`` around each call.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_ml.training.atomic import atomic_write_text
from codex_ml.training.checkpoint import LATEST
from codex_ml.training.errors import TrainingConfigError

CONFIG = "config.yaml"
METRICS = "metrics.jsonl"


def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _unique(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... when two runs start in the same second."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def newest_resumable(output_dir: Path) -> Path | None:
    """The most recently written run under ``output_dir`` that has a checkpoint."""
    runs = [p.parent.parent for p in output_dir.glob(f"*/checkpoints/{LATEST}")]
    return max(runs, key=lambda p: (p / "checkpoints" / LATEST).stat().st_mtime, default=None)


def choose_run_dir(output_dir: str, run_name: str | None, resume: bool) -> tuple[Path, bool]:
    """``(run directory, whether it holds a run to resume)`` for the given settings.

    A named run that already holds metrics is never silently mixed with a new
    one: resuming continues it, otherwise it is an error.
    """
    root = Path(output_dir).expanduser()
    if run_name is not None and (not run_name or "/" in run_name or run_name in (".", "..")):
        raise TrainingConfigError(f"training.run_name={run_name!r} is not a folder name; "
                                  "use letters, digits, '-', '_' or '.'.")
    if resume:
        path = root / run_name if run_name else newest_resumable(root)
        if path is not None and (path / "checkpoints" / LATEST).is_file():
            return path, True
        if path is not None:  # killed before its first checkpoint: start it again
            (path / METRICS).unlink(missing_ok=True)
    if not run_name:
        return _unique(root / _timestamp()), False
    path = root / run_name
    if (path / METRICS).exists():
        raise TrainingConfigError(
            f"{path} already holds a run. Continue it with training.resume=true, or pick "
            "another training.run_name (or none, for a timestamped folder).")
    return path, False


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as strings a reader can still parse."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def to_json(data: Any) -> str:
    return json.dumps(_clean(data), indent=2, default=_json_default) + "\n"


@dataclass
class Run:
    """A run directory; ``writer=False`` makes every write a no-op (ranks other than 0)."""

    path: Path
    writer: bool = True
    resumed: bool = False

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def create(self) -> None:
        if self.writer:
            self.checkpoints.mkdir(parents=True, exist_ok=True)

    def write_config(self, cfg: Mapping[str, Any]) -> None:
        if self.writer:
            import yaml  # type: ignore[import-untyped]  # PyYAML ships with omegaconf (the CLI needs it)

            atomic_write_text(self.path / CONFIG, yaml.safe_dump(dict(cfg), sort_keys=False))

    def write_json(self, name: str, data: Any) -> Path:
        if self.writer:
            atomic_write_text(self.path / name, to_json(data))
        return self.path / name

    def log(self, record: Mapping[str, Any]) -> None:
        """Append one record to ``metrics.jsonl`` (flushed: a kill loses no logged line)."""
        if self.writer:
            with open(self.path / METRICS, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(_clean(record), default=_json_default) + "\n")

    def trim_metrics(self, last_step: int) -> None:
        """On resume, drop records logged after the checkpoint: they will be logged again."""
        file = self.path / METRICS
        if not self.writer or not file.is_file():
            return
        kept = [line for line, record in _parsed(file) if record.get("step", 0) <= last_step]
        atomic_write_text(file, "".join(line + "\n" for line in kept))


def read_config(run_dir: Path) -> dict[str, Any]:
    """The resolved config a run was trained with."""
    file = run_dir / CONFIG
    if not file.is_file():
        raise TrainingConfigError(
            f"{run_dir} is not a run directory: it has no {CONFIG}. Pass run_dir= the folder a "
            "`codex-ml train` printed (e.g. runs/20250101-120000).")
    import yaml

    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TrainingConfigError(f"{file} does not hold a mapping; the run directory is damaged.")
    return data


def _parsed(file: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(line, record)`` of each complete record; a line cut short by a crash is skipped."""
    rows = []
    for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            rows.append((line, record))
    return rows


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    file = run_dir / METRICS
    return [record for _, record in _parsed(file)] if file.is_file() else []
