"""``python -m codex_ml.cli ...`` puts the working folder first on sys.path; ``codex-ml`` does not."""
from __future__ import annotations

import os
import sys


def drop_working_folder() -> None:
    """Take the working folder off sys.path, as the ``codex-ml`` script never has it.

    Hydra imports every ``hydra_plugins`` package on sys.path, so in a shared
    folder a planted ``hydra_plugins/`` would run as the user. Python itself
    imports from the working folder before this runs (``-m`` finds the package
    there first), so in a folder others can write, use ``codex-ml`` or
    ``python -P -m`` (docs/reliability.md, "Hostile neighbours").
    """
    if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == os.getcwd():
        del sys.path[0]
