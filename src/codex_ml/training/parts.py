"""``Parts``: everything a run is made of, built from the config by :mod:`codex_ml.training.jobs`.

Its own module so that the loops that consume it (:mod:`codex_ml.training.loop`,
:mod:`codex_ml.training.tiny`) never import the job that calls them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codex_ml.training.data import TokenSplits
from codex_ml.training.runplan import Plan
from codex_ml.training.settings import TrainerChoice, TrainSettings


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
    choice: TrainerChoice = field(default_factory=TrainerChoice)  # training.name / path / kwargs
    plan: Plan | None = None  # the run folder, locked (rank 0 only)


@dataclass(frozen=True)
class Training:
    """The ``training`` section, parsed once: which trainer, its typed settings, and the
    trainer itself when it could be built before the model (else ``None``)."""

    choice: TrainerChoice
    settings: TrainSettings
    trainer: Any = None
