"""The base class of training loggers (every method a no-op)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


class Logger:
    """Receives a run's config, scalars and text samples; override what you need.

    ``run_dir`` defaults to the working directory, as TensorBoard's own
    writer does; the training loop always passes the run's folder.
    """

    def __init__(self, run_dir: str | Path = ".", **_: Any) -> None:
        self.run_dir = Path(run_dir)

    def start(self, config: Mapping[str, Any], step: int) -> None:
        """The resolved config; ``step`` is where training starts (> 0 when resuming)."""

    def scalars(self, step: int, split: str, values: Mapping[str, float]) -> None:
        """Numbers logged at ``step`` for ``split`` (``train`` or ``val``)."""

    def text(self, step: int, tag: str, text: str) -> None:
        """Text, such as generated samples."""

    def close(self) -> None:
        """Flush and release files."""
