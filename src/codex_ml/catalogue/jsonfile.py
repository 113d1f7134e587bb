"""Reading the catalogue's JSON fixtures with errors that name the file and the fix.

Stdlib only. Every loader of a JSON fixture goes through :func:`load_json_object`
so that a malformed file gives one clear paragraph instead of a traceback from
deep inside ``json``: bad syntax, integers too long to convert, nesting deeper
than the parser follows, the wrong types. Each error names the file.

Fixtures are files we read implicitly, so they are read as
docs/reliability.md ("Threat model") asks: a regular file opened without
blocking, at most :data:`MAX_FIXTURE_BYTES`, in folders owned by the user or
root that others cannot write (the copies shipped inside the package are
trusted as the package's code is). The manifest check hashes the very bytes
that are then parsed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from codex_ml.catalogue.integrity import verify_bytes
from codex_ml.catalogue.paths import FIXTURES_DIR
from codex_ml.registry._fsafe import open_file, read_small_file

MAX_FIXTURE_BYTES = 32 << 20


class FixtureError(ValueError):
    """A catalogue fixture file exists but its content is not what the loader needs."""


def shipped(path: Path) -> bool:
    """Whether ``path`` is a copy shipped inside the installed package."""
    base = str(FIXTURES_DIR.resolve())
    return str(path.resolve()).startswith(base.rstrip("/") + "/")


def read_fixture(path: Path, what: str, max_bytes: int = MAX_FIXTURE_BYTES) -> bytes:
    """The bytes of a fixture file, read safely and checked against ``SHA256SUMS`` beside it."""
    data = read_small_file(path, max_bytes=max_bytes, follow_symlinks=True, trusted=not shipped(path))
    verify_bytes(path, data)
    return data


def open_fixture(path: Path, max_bytes: int) -> Any:
    """A binary stream of a fixture file, opened as :func:`read_fixture` reads one."""
    return open_file(path, follow_symlinks=True, trusted=not shipped(path), max_bytes=max_bytes)


def load_json_object(path: Path, what: str) -> dict[str, Any]:
    """Read ``path`` as a JSON object (checking ``SHA256SUMS`` beside it if present)."""
    try:
        text = read_fixture(path, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FixtureError(
            f"{what} {path} is not UTF-8 text ({exc}); save it as UTF-8 JSON"
        ) from exc
    data = parse_json(text, path, what)
    if not isinstance(data, dict):
        raise FixtureError(
            f"{what} {path} must hold a JSON object ({{...}}), found {type(data).__name__}"
        )
    return data


def parse_json(text: str, path: Path, what: str) -> Any:
    """``json.loads(text)``; every failure is a :class:`FixtureError` naming ``path``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FixtureError(
            f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}. "
            "Fix the file or point the loader at another one."
        ) from exc
    except ValueError as exc:  # e.g. an integer longer than int_max_str_digits
        raise FixtureError(
            f"{what} {path} is not usable JSON: {exc}. Fix the file or point the loader at another one."
        ) from exc
    except RecursionError as exc:  # '[[[[...' deeper than the parser can follow
        raise FixtureError(
            f"{what} {path} is not usable JSON: it nests deeper than the parser allows. "
            "Fix the file or point the loader at another one."
        ) from exc


def require_keys(data: dict[str, Any], keys: Iterable[str], path: Path, what: str) -> None:
    """Raise :class:`FixtureError` naming every missing key."""
    missing = [k for k in keys if k not in data]
    if missing:
        raise FixtureError(f"{what} {path} is missing required key(s) {missing}; add them")


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
