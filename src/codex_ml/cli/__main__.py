"""``python -m codex_ml.cli COMMAND ...``: the same commands as the ``codex-ml`` console script.

``train`` and ``evaluate`` are Hydra applications (:mod:`codex_ml.cli.hydra_app`);
``ls``, ``explain``, ``search``, ``doctor``, ``docs`` and ``--version`` belong
to :mod:`codex_ml.cli.app`, so both spellings behave the same.
"""
from __future__ import annotations

import os
import sys


def _drop_working_folder() -> None:
    """``python -m`` puts the working folder first on sys.path; the ``codex-ml`` script does not.

    Hydra imports every ``hydra_plugins`` package on sys.path, so in a shared
    folder a planted ``hydra_plugins/`` would run as the user (docs/reliability.md,
    "Hostile neighbours"). Without it, both spellings import the same code.
    """
    if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == os.getcwd():
        del sys.path[0]


def main(argv: list[str] | None = None) -> int:
    """The ``codex-ml`` entry point, imported only now: after the working folder left sys.path."""
    from codex_ml.cli.app import main as run

    return run(argv)


if __name__ == "__main__":
    _drop_working_folder()
    sys.exit(main())
