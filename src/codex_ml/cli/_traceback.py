"""``CODEX_ML_TRACEBACK=1``: the one traceback switch, honoured the same way by every command.

Every command turns an error into one paragraph on stderr and an exit status
(1 for an error, 2 for a usage error). With the switch on, the command first
prints the error's full traceback, then the same paragraph, and exits with the
same status: the switch adds information and changes nothing else
(docs/guides/cli.md, "Environment"). A usage error (exit 2) is about the
command line, not the code, and stays one paragraph. Stdlib only: the listing
commands and a bare install (no extras) import it too.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Iterator
from typing import Any

from codex_ml.registry._settings import FALSE, TRUE, switch

TRACEBACK_VARS = ("CODEX_ML_TRACEBACK", "CODEX_ML_DEBUG")


@functools.lru_cache(maxsize=1)
def traceback_wanted() -> bool:
    """``CODEX_ML_TRACEBACK=1`` (``CODEX_ML_DEBUG=1`` too), read once per process.

    A value that is neither on nor off is warned about (once) and counts as on,
    so a typo never hides the traceback that was asked for.
    """
    wanted = False
    for var in TRACEBACK_VARS:
        value = os.environ.get(var, "")
        on = switch(value) if value.strip() else False
        if on is None:
            print(f"codex-ml: warning: {var}={value.strip().lower()!r} is neither on ({', '.join(TRUE)}) "
                  f"nor off ({', '.join(FALSE)}); treating it as on.", file=sys.stderr)
        wanted = wanted or on is not False
    return wanted


def show_traceback(exc: BaseException) -> None:
    """Print ``exc``'s traceback on stderr when the switch is on; the caller reports it as usual."""
    if traceback_wanted():
        traceback.print_exception(exc)
        sys.stderr.flush()


@contextlib.contextmanager
def config_warnings(command: str) -> Iterator[None]:
    """codex_ml's own warnings (an old config key, a broken plugin, a bad setting) as one line,
    ``codex-ml train: warning: ...``; others as Python prints them."""
    import warnings

    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if category.__module__.partition(".")[0] == "codex_ml":
                print(f"codex-ml {command}: warning: {message}", file=sys.stderr, flush=True)
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show  # restored when catch_warnings exits
        yield
