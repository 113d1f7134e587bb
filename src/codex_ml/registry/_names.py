"""Component names: validation and the normalised lookup key."""

from __future__ import annotations

ALLOWED_PUNCT = frozenset("-_.:@/")
_DROP_PUNCT = str.maketrans("", "", "-_.:@/")


def validate_name(name: object, kind: str) -> str:
    """Return ``name`` stripped, or raise for a non-string or a bad character."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a str, got {type(name).__name__}: {name!r}")
    stripped = name.strip()
    if not stripped:
        raise _invalid(name, "", kind)
    core = stripped.translate(_DROP_PUNCT)
    if core.isascii() and (core.isalnum() or not core):
        return stripped  # the fast path: one C-level check for the whole name
    for char in stripped:
        if not (char.isascii() and char.isalnum()) and char not in ALLOWED_PUNCT:
            raise _invalid(name, char, kind)
    return stripped


def normalise(name: str) -> str:
    """The lookup key: case-insensitive, '-' and '_' alike (no validation)."""
    return name.strip().lower().replace("-", "_")


def _invalid(name: str, char: str, kind: str) -> ValueError:
    from ._errors import InvalidNameError  # only a bad name pays for the error classes

    return InvalidNameError(name, char, kind)
