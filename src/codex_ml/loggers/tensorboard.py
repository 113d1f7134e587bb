"""``tensorboard``: TensorBoard event files in ``<run>/tensorboard/`` (torch.utils.tensorboard).

``tensorboard --logdir runs`` shows every run; scalars are tagged
``train/loss``, ``val/perplexity`` and so on, the config is a text entry
(``config``) and generated samples are ``samples``. Needs the optional
extra ``pip install "codex-ml[tensorboard]"``. On resume, events written
after the checkpoint step are purged, like ``metrics.jsonl``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codex_ml.loggers.base import Logger

FOLDER = "tensorboard"


class TensorBoardLogger(Logger):
    def __init__(self, run_dir: str | Path = ".", **kwargs: Any) -> None:
        super().__init__(run_dir)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise ImportError(
                "the tensorboard logger needs the tensorboard package: pip install "
                "'codex-ml[tensorboard]' (or drop tensorboard from loggers=[...])") from exc
        self._make = SummaryWriter
        self._kwargs = kwargs
        self._writer: Any = None

    def start(self, config: Mapping[str, Any], step: int) -> None:
        import yaml  # type: ignore[import-untyped]  # PyYAML ships with omegaconf

        self._writer = self._make(log_dir=str(self.run_dir / FOLDER),
                                  purge_step=step if step else None, **self._kwargs)
        dumped = yaml.safe_dump(dict(config), sort_keys=False)
        self._writer.add_text("config", "```\n" + dumped + "```", global_step=step)

    def scalars(self, step: int, split: str, values: Mapping[str, float]) -> None:
        for key, value in values.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self._writer.add_scalar(f"{split}/{key}", float(value), global_step=step)

    def text(self, step: int, tag: str, text: str) -> None:
        self._writer.add_text(tag, text, global_step=step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def build_tensorboard_logger(run_dir: str | Path = ".", **kwargs: Any) -> TensorBoardLogger:
    """Catalogue factory of the ``tensorboard`` logger (``SummaryWriter`` keyword arguments)."""
    return TensorBoardLogger(run_dir, **kwargs)
