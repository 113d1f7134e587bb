"""Start-up: run the common listing invocations without building the Typer app.

Typer 0.29 coerces every non-boolean parameter through a pydantic
``TypeAdapter``, which imports pydantic (about 50 ms) on each run. The
invocations people run most (``ls``, ``list KIND``, ``search``, ``explain``,
``doctor``, each with its documented flags) are recognised here by a small
table-driven parser and handed straight to ``_actions``, the same functions
the Typer commands call. Anything else (``--help``, an unknown or misspelt
option, a missing argument, ``docs build``) goes to Typer, which owns the
help text and the usage errors. ``CODEX_ML_CLI_FASTPATH=0`` turns the fast
path off (the tests compare both ways).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

TYPE_CHECKING = False  # importing typing costs milliseconds on the listing path
if TYPE_CHECKING:
    from typing import Any

JSON = {"--json": "as_json"}


class Spec:
    """A command's arguments: positionals, boolean flags, options taking a value."""

    __slots__ = ("flags", "options", "positionals", "repeated")

    def __init__(self, positionals: tuple[str, ...], flags: dict[str, str], options: dict[str, str] | None = None,
                 repeated: frozenset[str] = frozenset()) -> None:
        self.positionals, self.flags, self.options = positionals, flags, options or {}
        self.repeated = repeated


SPECS: dict[str, Spec] = {
    "ls": Spec((), {**JSON, "--resolve": "resolve"}, {"--tag": "tag", "-t": "tag"}, frozenset({"tag"})),
    "list": Spec(("kind",), {**JSON, "--resolve": "resolve"}, {"--tag": "tag", "-t": "tag"},
                 frozenset({"tag"})),
    "search": Spec(("query",), JSON, {"--kind": "kind", "-k": "kind", "--tag": "tag", "-t": "tag"},
                   frozenset({"tag"})),
    "explain": Spec(("name",), {**JSON, "--no-load": "no_load"}, {"--kind": "kind", "-k": "kind"}),
    "doctor": Spec((), {**JSON, "--all": "load_all"}, {"--timeout": "timeout"}),
}


def parse(argv: list[str]) -> tuple[str, dict[str, Any]] | None:
    """``(command, kwargs)`` for an invocation the fast path handles, else None."""
    if not argv or argv[0] not in SPECS:
        return None
    spec = SPECS[argv[0]]
    kwargs: dict[str, Any] = {}
    positionals: list[str] = []
    args = iter(argv[1:])
    for arg in args:
        name, has_value, inline = arg.partition("=")
        if name in spec.options:
            value = inline if has_value else next(args, None)
            if value is None or (not has_value and value.startswith("-")):
                return None
            _store(kwargs, spec, spec.options[name], value)
        elif arg in spec.flags:
            kwargs[spec.flags[arg]] = True
        elif arg.startswith("-"):
            return None  # --help, a typo, ``--``, ``-tfoo``: Typer explains or parses
        else:
            positionals.append(arg)
    if len(positionals) != len(spec.positionals):
        return None
    kwargs.update(zip(spec.positionals, positionals))
    return argv[0], kwargs


def _store(kwargs: dict[str, Any], spec: Spec, key: str, value: str) -> None:
    if key in spec.repeated:
        kwargs.setdefault(key, []).append(value)
    else:
        kwargs[key] = value


def actions() -> dict[str, Callable[..., int]]:
    from . import _actions

    return {"ls": _actions.ls_action, "list": _actions.list_action, "search": _actions.search_action,
            "explain": _actions.explain_action, "doctor": _actions.doctor_action}


def enabled() -> bool:
    """``CODEX_ML_CLI_FASTPATH=0`` sends every command through Typer."""
    from codex_ml.registry._settings import switch

    return switch(os.environ.get("CODEX_ML_CLI_FASTPATH", "")) is not False


def dispatch(argv: list[str], prog: str, *, hydra_commands: bool = False) -> int:
    """Run one command line: fast path when it applies, else the Typer app."""
    parsed = parse(argv) if enabled() else None
    if parsed is not None:
        command, kwargs = parsed
        status = actions()[command](**kwargs)
    else:
        from ._commands import build_app, invoke

        status = invoke(build_app(hydra_commands=hydra_commands), argv, prog)
    silence_broken_pipe()
    return status


def silence_broken_pipe() -> None:
    """``codex-ml ls | head -1``: the reader went away; do not print a traceback."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
