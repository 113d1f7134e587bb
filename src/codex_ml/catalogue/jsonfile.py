"""Reading the catalogue's JSON fixtures with errors that name the file and the fix.

Stdlib only. Every loader of a JSON fixture goes through :func:`load_json_object`
so that a malformed file gives one clear paragraph instead of a traceback from
deep inside ``json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from codex_ml.catalogue.integrity import verify_file


class FixtureError(ValueError):
    """A catalogue fixture file exists but its content is not what the loader needs."""


def load_json_object(path: Path, what: str) -> dict[str, Any]:
    """Read ``path`` as a JSON object (checking ``SHA256SUMS`` beside it if present)."""
    verify_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FixtureError(
            f"{what} {path} is not UTF-8 text ({exc}); save it as UTF-8 JSON"
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FixtureError(
            f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}. "
            "Fix the file or point the loader at another one."
        ) from exc
    except RecursionError as exc:  # '[[[[...' deeper than the parser can follow
        raise FixtureError(
            f"{what} {path} is not usable JSON: it nests deeper than the parser allows. "
            "Fix the file or point the loader at another one."
        ) from exc
    if not isinstance(data, dict):
        raise FixtureError(
            f"{what} {path} must hold a JSON object ({{...}}), found {type(data).__name__}"
        )
    return data


def reject_unknown(data: dict[str, Any], allowed: Iterable[str], path: Path, what: str) -> None:
    """Raise :class:`FixtureError` naming keys that the loader does not understand (typos)."""
    allowed_set = set(allowed)
    unknown = sorted(k for k in data if k not in allowed_set)
    if unknown:
        raise FixtureError(
            f"{what} {path} has unknown key(s) {unknown}; allowed keys: {sorted(allowed_set)}"
        )


def field(
    data: dict[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    path: Path,
    what: str,
    default: Any = ...,
    check: Callable[[Any], bool] | None = None,
    rule: str = "",
) -> Any:
    """``data[key]`` checked against ``kind`` (and ``check``); a clear error otherwise."""
    if key not in data:
        if default is ...:
            raise FixtureError(f"{what} {path} is missing required key {key!r}; add it")
        return default
    value = data[key]
    bad_bool = isinstance(value, bool) and bool not in (
        kind if isinstance(kind, tuple) else (kind,)
    )
    if bad_bool or not isinstance(value, kind) or (check is not None and not check(value)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        extra = f" ({rule})" if rule else ""
        raise FixtureError(f"{what} {path}: {key!r} must be {names}{extra}, found {value!r}")
    return value
