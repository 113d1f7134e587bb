"""``python -m codex_ml.cli COMMAND ...``: ``train`` and ``evaluate`` run Hydra jobs.

Other commands (``ls``, ``explain``, ``search``, ``doctor``, ``docs``) belong to
the ``codex-ml`` console script in :mod:`codex_ml.cli.app`, so both spellings
behave the same.
"""
from __future__ import annotations

import sys

from codex_ml.cli.hydra_app import COMMANDS, USAGE, run


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in COMMANDS:
        return run(args[0], args[1:])
    try:
        from codex_ml.cli.app import main as app_main
    except ImportError:  # the plugin commands are not part of this installation
        if args and args[0] in ("-h", "--help"):
            print(USAGE)
            return 0
        print(f"{USAGE}\ncodex-ml: error: choose a command: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    result = app_main(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
