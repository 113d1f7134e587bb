"""The run directory a user reads: ``runs/<name-or-timestamp>/``.

    config.yaml      the fully resolved config the run used
    metrics.jsonl    one JSON object per logged step (train) or evaluation (val)
    checkpoints/     see :mod:`codex_ml.training.checkpoint`
    summary.json     what the final table shows, with the final evaluation
    provenance.json  versions, plugins and artefact hashes (:mod:`codex_ml.training.provenance`)
    evals/<time>.json  one file per ``codex-ml evaluate run_dir=...`` of this run

Only the main process (rank 0) writes; the others get a :class:`Run` whose
writes do nothing, so the loop needs no ``if rank == 0`` around each call.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_ml.training.atomic import atomic_write_text
from codex_ml.training.errors import RunWriteError, TrainingConfigError

CONFIG = "config.yaml"
METRICS = "metrics.jsonl"


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

    def start(self, cfg: dict[str, Any], restart: bool = False) -> None:
        """Create the folder; write the config the run uses and what it was trained on."""
        if not self.writer:
            return
        from codex_ml.training import provenance

        try:
            self.create()
            if restart:  # killed before its first checkpoint: its lines are logged again
                (self.path / METRICS).unlink(missing_ok=True)
            self.write_config(cfg)
            self.write_json(provenance.PROVENANCE, provenance.record(cfg))
        except OSError as exc:
            raise RunWriteError(f"cannot write the run folder {self.path}: {exc.strerror or exc}. "
                                "Pick a folder you can write (training.output_dir=... or "
                                "hydra.run.dir=...).", str(self.path)) from exc

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
        if not self.writer:
            return
        file = self.path / METRICS
        try:
            with open(file, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(_clean(record), default=_json_default) + "\n")
        except OSError as exc:
            raise RunWriteError(
                f"could not append to {file}: {exc.strerror or exc}. Free disk space (or fix the "
                "folder's permissions), then continue the run with training.resume=true; the last "
                "checkpoint is intact.", str(file)) from exc

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

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise TrainingConfigError(f"{file} is not valid YAML{at}; the run directory is damaged. Fix: "
                                  "restore that file, or train the run again.") from None
    if not isinstance(data, dict):
        raise TrainingConfigError(f"{file} does not hold a mapping; the run directory is damaged.")
    from codex_ml.training.confignames import canonical_names

    return canonical_names(data, warn=False)  # a run saved before the renames reads the same


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
