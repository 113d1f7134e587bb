"""``jsonl``: the run folder's ``metrics.jsonl``, one JSON object per logged step."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codex_ml.loggers.base import Logger


class JsonlLogger(Logger):
    """Appends ``{"step", "split", **values}`` to ``<run>/metrics.jsonl`` (flushed per line)."""

    def __init__(self, run_dir: str | Path = ".", **kwargs: Any) -> None:
        from codex_ml.training.rundir import Run

        super().__init__(run_dir, **kwargs)
        self._run = Run(self.run_dir)

    def scalars(self, step: int, split: str, values: Mapping[str, float]) -> None:
        self._run.log({"step": step, "split": split, **values})


def build_jsonl_logger(run_dir: str | Path = ".", **kwargs: Any) -> JsonlLogger:
    """Catalogue factory of the ``jsonl`` logger (the default)."""
    return JsonlLogger(run_dir, **kwargs)
