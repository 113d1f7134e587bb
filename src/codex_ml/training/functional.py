"""``offline:functional``: the trainer that the offline catalogue registers.

``build_functional_trainer(config_path=None, **overrides)`` reads the trainer
JSON (``data/offline/trainer_functional.json``, found through
:func:`codex_ml.catalogue.paths.resolve`), lays ``overrides`` on top (``None``
means "not set") and returns a :class:`FunctionalTrainer`. For a PyTorch model
its ``training_step`` / ``validation_step`` compute the causal-LM loss and the
loop in :mod:`codex_ml.training.loop` does the rest (AdamW, warmup + cosine,
clipping, accumulation, bf16, DDP). For the tiny pure-Python sequence model,
:meth:`FunctionalTrainer.fit_counts` fits it deterministically by counting.

Importing this module imports no torch: listing or building the trainer is free.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from codex_ml.training import BaseTrainer
from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.settings import TrainSettings, merge_settings, read_settings_file


class FunctionalTrainer(BaseTrainer):
    """Causal-LM steps plus the settings that drive the loop."""

    def __init__(self, settings: TrainSettings | None = None, source: str = "built-in defaults",
                 model: Any = None) -> None:
        super().__init__(config=settings or TrainSettings())
        self.settings: TrainSettings = self.config
        self.source = source
        self.model = model  # set by the loop (DDP-wrapped when data-parallel)

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        # torch only when a torch model actually trains (this module stays torch-free).
        from codex_ml.training.lm import causal_lm_loss

        return causal_lm_loss(self.model, batch)

    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        from codex_ml.training.lm import causal_lm_loss

        return causal_lm_loss(self.model, batch)

    def fit_counts(self, model: Any, sequences: Iterable[Sequence[int]]) -> Any:
        """Fit a counting model (``fit(sequences)``), with this trainer's order and smoothing."""
        fit = getattr(model, "fit", None)
        if not callable(fit):
            raise TrainingConfigError(
                f"model {type(model).__name__} is neither a torch.nn.Module nor a model with "
                "fit(sequences); offline:functional cannot train it. Pick a PyTorch model "
                "(model.name=decoder_only) or one with fit().")
        model = _with_hyper(model, self.settings.order, self.settings.smoothing)
        model.fit(list(sequences))
        return model

    def __repr__(self) -> str:
        return f"FunctionalTrainer(source={self.source!r})"


def _with_hyper(model: Any, order: int, smoothing: float) -> Any:
    """The model rebuilt with the trainer's n-gram order and smoothing, if it has them."""
    if (getattr(model, "order", order), getattr(model, "smoothing", smoothing)) == (order, smoothing):
        return model
    from_state = getattr(type(model), "from_state", None)
    if from_state is None:
        return model
    state = {**model.state_dict(), "order": order, "smoothing": smoothing, "counts": {}}
    return from_state(state, source=getattr(model, "source", "<memory>"))


def build_functional_trainer(config_path: str | os.PathLike[str] | None = None,
                             **overrides: Any) -> FunctionalTrainer:
    """Catalogue factory of ``offline:functional``: JSON settings, then ``overrides``."""
    from codex_ml.catalogue import paths

    path = paths.resolve("functional_trainer_config", config_path)
    settings = merge_settings((f"trainer configuration {path}", read_settings_file(path)),
                              ("training config", overrides))
    return FunctionalTrainer(settings, source=str(path))
