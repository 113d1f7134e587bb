"""Hydra callbacks that ``config.yaml`` installs (``hydra.callbacks``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback


class SweepFolderCheck(Callback):
    """``-m``: the sweep folder is checked as a run folder is, before Hydra writes ``multirun.yaml``.

    A folder another account made (or can change) at that name would otherwise
    receive the sweep's files, or send them through a link it planted
    (docs/reliability.md, "Hostile neighbours").
    """

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from codex_ml.utils.outputs import require_own_folder

        try:
            require_own_folder(Path(str(config.hydra.sweep.dir)), "hydra.sweep.dir (or training.output_dir)")
        except OSError as exc:  # Hydra turns a callback's exception into a warning and goes on: stop here
            from codex_ml.cli.hydra_app import report

            report(str(config.hydra.job.name), exc)
            raise SystemExit(1) from None
