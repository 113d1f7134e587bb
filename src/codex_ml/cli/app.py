"""The ``codex-ml`` console script.

``codex-ml train ...`` and ``codex-ml evaluate ...`` go straight to the Hydra
application (before Typer is even imported, so Hydra parses its own
arguments: ``-cn``, ``key=value`` overrides, ``--multirun``). Everything else
is the plugin CLI: ``list KIND``, ``ls``, ``explain NAME``, ``search QUERY``,
``doctor``, ``docs build --out DIR [--format html]`` and ``report RUN_DIR...``.
"""

from __future__ import annotations

import sys

HYDRA_COMMANDS = ("train", "evaluate")
AFTER_COMMANDS = ("generate", "export", "plot")  # cli/_after.py: using a trained run
PROG = "codex-ml"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``codex-ml``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in HYDRA_COMMANDS:
        from codex_ml.cli._actions import run_hydra

        return run_hydra(args[0], args[1:])
    if args and args[0] in AFTER_COMMANDS:
        from codex_ml.cli._after import run

        return run(args[0], args[1:])
    from codex_ml.cli._dispatch import dispatch

    return dispatch(args, PROG, hydra_commands=True)


if __name__ == "__main__":
    sys.exit(main())
