"""Turning metric inputs (lists, nested lists, tensors, arrays) into flat Python lists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def to_list(value: Any) -> Any:
    """``value.tolist()`` for tensors and arrays; ``value`` otherwise."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


def flatten(value: Any) -> list[Any]:
    """Flatten nested lists/tuples (and tensors) into one list of scalars."""
    value = to_list(value)
    if not isinstance(value, (list, tuple)):
        return [value]
    out: list[Any] = []
    for item in value:
        out.extend(flatten(item))
    return out


def as_texts(value: Any, name: str) -> list[str]:
    """A single string becomes ``[string]``; an iterable of strings becomes a list; else ``TypeError``."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a string or a list of strings, got {type(value).__name__}")
    texts = list(value)
    for item in texts:
        if not isinstance(item, str):
            raise TypeError(f"{name} must contain strings, found {type(item).__name__}: {item!r}")
    return texts
