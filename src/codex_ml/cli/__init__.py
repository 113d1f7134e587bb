"""Command-line entry points of codex_ml.

``python -m codex_ml.cli train|evaluate ...`` composes the packaged Hydra
configs and runs the job (:mod:`codex_ml.cli.hydra_app`); the ``codex-ml``
console script adds the plugin commands (:mod:`codex_ml.cli.app`). Importing
this package imports nothing heavy.
"""
from __future__ import annotations
