"""``python -m codex_ml.cli COMMAND ...``: the same commands as the ``codex-ml`` console script.

``train`` and ``evaluate`` are Hydra applications (:mod:`codex_ml.cli.hydra_app`);
``ls``, ``explain``, ``search``, ``doctor``, ``docs`` and ``--version`` belong
to :mod:`codex_ml.cli.app`, so both spellings behave the same.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """The ``codex-ml`` entry point, imported only now: after the working folder left sys.path."""
    from codex_ml.cli.app import main as run

    return run(argv)


if __name__ == "__main__":
    from codex_ml.cli._workdir import drop_working_folder

    drop_working_folder()
    sys.exit(main())
