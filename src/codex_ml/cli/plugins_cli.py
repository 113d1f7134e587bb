"""``python -m codex_ml.cli.plugins_cli``: the plugin CLI (docs/guides/cli.md).

    python -m codex_ml.cli.plugins_cli list models
    python -m codex_ml.cli.plugins_cli list datasets --json

The same commands as the ``codex-ml`` console script (``list``, ``ls``,
``explain``, ``search``, ``doctor``, ``docs build``), without train/evaluate.
Listing never imports a plugin's module, torch or Rich (unless stdout is a
terminal).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from codex_ml.cli._dispatch import dispatch

if TYPE_CHECKING:
    import typer

PROG = "python -m codex_ml.cli.plugins_cli"


def main(argv: list[str] | None = None) -> int:
    """Run the plugin CLI on ``argv`` (default: the command line); return the exit status."""
    return dispatch(sys.argv[1:] if argv is None else list(argv), PROG)


def __getattr__(name: str) -> typer.Typer:
    """``plugins_cli.app``: the Typer application (built on first use)."""
    if name == "app":
        from codex_ml.cli._commands import build_app

        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
