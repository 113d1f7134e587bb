"""The commands' bodies, free of any CLI framework: each returns an exit status.

Typer (``_commands``) and the start-up fast path (``_dispatch``) both call
these, so a command behaves the same whichever parsed its arguments.
Exit statuses: 0 ok, 1 not found or broken, 2 usage error. No traceback
gets through: errors name the thing, where the CLI looked and the fix.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from codex_ml.registry import PluginWarning, RegistryError

from . import _inspect, _render, _views
from ._kinds import CliError, alias_note, resolve_kind
from ._traceback import show_traceback

TYPE_CHECKING = False  # importing typing costs milliseconds on the listing path
if TYPE_CHECKING:
    from typing import Any

    Produced = tuple[Any, list[_render.Block], int]


@contextmanager
def collected_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Warnings raised while a command runs are printed by the CLI, one line each."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        yield caught


def run(as_json: bool, produce: Callable[[], Produced], *, reports_plugins: bool = False) -> int:
    """Run one command body: print its data (or its error); return its exit status.

    ``reports_plugins``: the command prints plugin failures itself, so the
    registry's PluginWarnings are not echoed on stderr (JSON keeps them).
    """
    with collected_warnings() as caught:
        try:
            data, blocks, code = produce()
        except CliError as exc:
            if exc.exit_code != 2:  # a usage error is about the command line, not the code
                show_traceback(exc)
            return fail(exc, as_json, caught)
        except RegistryError as exc:
            show_traceback(exc)
            return fail(CliError(str(exc)), as_json, caught)
        except Exception as exc:  # noqa: BLE001 - one paragraph; the traceback only when asked for
            show_traceback(exc)
            return fail(CliError(f"internal error: {_inspect.describe(exc)}. This is a bug in codex-ml "
                                 "or a plugin; rerun with CODEX_ML_TRACEBACK=1 to see the traceback."),
                        as_json, caught)
    _print_warnings(caught, data if as_json else None, skip_plugin=reports_plugins)
    if as_json:
        _render.emit_json(data)
    else:
        _render.emit(blocks)
    return code


def fail(exc: CliError, as_json: bool, caught: list[warnings.WarningMessage]) -> int:
    _print_warnings(caught, None)
    _render.error(exc.message)
    if as_json:
        _render.emit_json({"error": exc.message, "exit_code": exc.exit_code, **exc.data})
    return exc.exit_code


def _print_warnings(caught: list[warnings.WarningMessage], data: Any, skip_plugin: bool = False) -> None:
    shown = [str(w.message) for w in caught if not (skip_plugin and issubclass(w.category, PluginWarning))]
    for message in dict.fromkeys(shown):
        _render.warning(message)
    if isinstance(data, dict) and caught:
        data["warnings"] = list(dict.fromkeys(str(w.message) for w in caught))


# ----------------------------------------------------------------- commands
def list_action(kind: str, tag: list[str] | None = None, resolve: bool = False, as_json: bool = False) -> int:
    def produce() -> Produced:
        reg = resolve_kind(kind)
        data = _inspect.list_data(reg, tag, resolve)
        data["requested"] = kind
        return data, _views.list_blocks(data, alias_note(kind, reg) or reg.kind), 0

    return run(as_json, produce, reports_plugins=True)


def ls_action(resolve: bool = False, as_json: bool = False, tag: list[str] | None = None) -> int:
    def produce() -> Produced:
        data = _inspect.ls_data(resolve, tag)
        return data, _views.ls_blocks(data), 0

    return run(as_json, produce, reports_plugins=True)


def explain_action(name: str, kind: str | None = None, no_load: bool = False, as_json: bool = False) -> int:
    from ._explain import explain_data

    def produce() -> Produced:
        data = explain_data(name, kind, load=not no_load)
        broken = any(m.get("status") == "error" for m in data["matches"])
        return data, _views.explain_blocks(data), 1 if broken else 0

    return run(as_json, produce)


def search_action(query: str, kind: str | None = None, as_json: bool = False,
                  tag: list[str] | None = None) -> int:
    def produce() -> Produced:
        data = _inspect.search_data(query, kind, tag)
        return data, _views.search_blocks(data), 0 if data["count"] else 1

    return run(as_json, produce)


def doctor_action(load_all: bool = False, as_json: bool = False, timeout: float | str = 10.0) -> int:
    from ._doctor import doctor_data, parse_timeout

    def produce() -> Produced:
        data = doctor_data(load_all, parse_timeout(timeout))
        return data, _views.doctor_blocks(data), 0 if data["ok"] else 1

    return run(as_json, produce, reports_plugins=True)


def docs_build_action(out: str | None, as_json: bool = False, fmt: str = "md", guides: str | None = None,
                      resolve: bool = False) -> int:
    from ._docs import build, default_out

    out = out or default_out(fmt)

    def produce() -> Produced:
        paths = [str(p) for p in build(out, fmt, guides, resolve)]
        if fmt == "html":
            text = f"wrote {len(paths)} files to {out}; open {os.path.join(out, 'index.html')}"
        else:
            text = f"wrote {len(paths)} pages to {out}: {', '.join(os.path.basename(p) for p in paths)}"
        return {"out": out, "format": fmt, "files": paths}, [_render.Text(text)], 0

    return run(as_json, produce, reports_plugins=fmt == "html")  # the site has a page per broken plugin


def run_hydra(command: str, argv: list[str]) -> int:
    """Hand ``train``/``evaluate`` to the Hydra app, which parses its own arguments."""
    from codex_ml.cli.hydra_app import run as hydra_run

    try:
        return int(hydra_run(command, argv) or 0)
    except SystemExit as exc:
        return exit_status(exc)


def exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1
