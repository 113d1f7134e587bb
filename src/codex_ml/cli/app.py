"""The ``codex-ml`` console script.

``codex-ml train ...`` and ``codex-ml evaluate ...`` go straight to the Hydra
application (before Typer is even imported, so Hydra parses its own
arguments: ``-cn``, ``key=value`` overrides, ``--multirun``). Everything else
is the plugin CLI: ``list KIND``, ``ls``, ``explain NAME``, ``search QUERY``,
``doctor``, ``docs build --out DIR [--format html]`` and ``report RUN_DIR...``;
``codex-ml --version`` prints the version. With no extras installed the listing
commands still work and every other command says which extra to install, in
one line (exit 1).
"""

from __future__ import annotations

import sys

HYDRA_COMMANDS = ("train", "evaluate")
AFTER_COMMANDS = ("generate", "export", "plot")  # cli/_after.py: using a trained run
PROG = "codex-ml"


def version_line() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{PROG} {version('codex-ml')}"
    except PackageNotFoundError:  # running from a source tree that was not installed
        return f"{PROG} (not installed: no version)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``codex-ml``; returns the exit status."""
    from codex_ml.cli._dispatch import silence_broken_pipe

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["--version"], ["-V"]):
        print(version_line())
        silence_broken_pipe()
        return 0
    if args and args[0] in HYDRA_COMMANDS:
        from codex_ml.cli._actions import run_hydra

        status = run_hydra(args[0], args[1:])
    elif args and args[0] in AFTER_COMMANDS:
        from codex_ml.cli._after import run

        status = run(args[0], args[1:])
    else:
        status = _plugin_cli(args)
    silence_broken_pipe()
    return status


def _plugin_cli(args: list[str]) -> int:
    from codex_ml.cli._dispatch import dispatch

    try:
        return dispatch(args, PROG, hydra_commands=True)
    except ImportError as exc:
        from codex_ml._extras import needs_extra

        message = needs_extra(f"`{PROG} {' '.join(args[:1]) or '--help'}`", exc)
        if message is None:
            raise
        from codex_ml.cli._traceback import show_traceback

        show_traceback(exc)
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # python -m codex_ml.cli.app: as python -m codex_ml.cli
    from codex_ml.cli._workdir import drop_working_folder

    drop_working_folder()
    sys.exit(main())
