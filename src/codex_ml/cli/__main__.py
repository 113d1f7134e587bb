"""``python -m codex_ml.cli COMMAND ...``: the same commands as the ``codex-ml`` console script.

``train`` and ``evaluate`` are Hydra applications (:mod:`codex_ml.cli.hydra_app`);
``ls``, ``explain``, ``search``, ``doctor``, ``docs`` and ``--version`` belong
to :mod:`codex_ml.cli.app`, so both spellings behave the same.
"""
from __future__ import annotations

import sys

from codex_ml.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
