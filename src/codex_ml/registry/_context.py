"""Which plugin is being loaded right now, per thread.

Registrations made while a plugin's code runs (a hook, a bundle module, a
plugin file) take that plugin's provenance and precedence, and a per-kind
entry point that registers into a different kind is caught.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ._entry import Provenance


@dataclass
class LoadFrame:
    provenance: Provenance
    kind: str | None  # the registry an entry-point hook belongs to; None: any kind
    registered: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    refused: list[str] = field(default_factory=list)


_local = threading.local()


def _stack() -> list[LoadFrame]:
    stack: list[LoadFrame] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def current() -> LoadFrame | None:
    stack = _stack()
    return stack[-1] if stack else None


@contextmanager
def loading(provenance: Provenance, kind: str | None = None) -> Iterator[LoadFrame]:
    frame = LoadFrame(provenance, kind)
    stack = _stack()
    stack.append(frame)
    try:
        yield frame
    finally:
        stack.pop()


def import_target(target: str) -> Any:
    """Import ``module`` or ``module:attr.sub`` (entry-point syntax, extras ignored)."""
    spec = target.split("[", 1)[0].strip()
    module_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj
