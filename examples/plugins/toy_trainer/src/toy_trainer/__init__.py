"""A BaseTrainer subclass: counts steps and averages the batch losses it is given."""

from __future__ import annotations

from typing import Any

from codex_ml.training import BaseTrainer

import os

# Tests prove laziness with this side effect: the module appends its name to
# $CODEX_TOY_IMPORT_LOG when (and only when) it is imported.
if os.environ.get("CODEX_TOY_IMPORT_LOG"):
    with open(os.environ["CODEX_TOY_IMPORT_LOG"], "a", encoding="utf-8") as _log:
        _log.write(__name__ + "\n")


class ToyTrainer(BaseTrainer):
    def __init__(self, config: Any = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.steps = 0

    def training_step(self, batch: Any, batch_idx: int) -> dict[str, float]:
        self.steps += 1
        return {"loss": 1.0 / (1 + batch_idx)}

    def validation_step(self, batch: Any, batch_idx: int) -> dict[str, float]:
        return {"val_loss": 1.0 / (1 + batch_idx)}
