"""``Parts``: everything a run is made of, built from the config by :mod:`codex_ml.training.jobs`.

Its own module so that the loops that consume it (:mod:`codex_ml.training.loop`,
:mod:`codex_ml.training.tiny`) never import the job that calls them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codex_ml.training.data import TokenSplits
from codex_ml.training.runplan import Plan
from codex_ml.training.settings import TrainSettings


@dataclass
class Parts:
    """Everything a run is made of, built from the config."""

    cfg: dict[str, Any]
    settings: TrainSettings
    trainer: Any
    tokenizer: Any
    model: Any
    splits: TokenSplits
    metrics: dict[str, tuple[Any, str]]
    plan: Plan | None = None  # the run folder, locked (rank 0 only)
