"""A training logger plugin: every call becomes one line of ``<run>/toy_log.jsonl``.

An MLflow or Weights & Biases logger has the same shape: open the run in
``start`` (``mlflow.start_run()`` + ``mlflow.log_params(config)``, or
``wandb.init(config=config)``), forward ``scalars`` (``mlflow.log_metrics``,
``wandb.log``) and ``text``, and finish in ``close``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codex_ml.loggers import Logger


class ToyLogger(Logger):
    def __init__(self, run_dir: str | Path, prefix: str = "toy", **kwargs: Any) -> None:
        super().__init__(run_dir, **kwargs)
        self.prefix = prefix
        self.file = self.run_dir / "toy_log.jsonl"

    def _write(self, **record: Any) -> None:
        with open(self.file, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"prefix": self.prefix, **record}) + "\n")

    def start(self, config: Any, step: int) -> None:
        self._write(event="start", step=step, model=config["model"]["name"])

    def scalars(self, step: int, split: str, values: Any) -> None:
        self._write(event="scalars", step=step, split=split, values=dict(values))

    def text(self, step: int, tag: str, text: str) -> None:
        self._write(event="text", step=step, tag=tag, text=text)

    def close(self) -> None:
        self._write(event="close")
