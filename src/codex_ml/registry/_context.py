"""Which plugin is being loaded right now, per thread.

Registrations made while a plugin's code runs (a hook, a bundle module, a
plugin file) take that plugin's provenance and precedence, and a per-kind
entry point that registers into a different kind is caught.
"""

from __future__ import annotations

import _thread
import importlib

TYPE_CHECKING = False  # typing itself costs milliseconds to import

if TYPE_CHECKING:
    from typing import Any

    from ._entry import Provenance


class LoadFrame:
    """One plugin being loaded: what it registered and what was refused."""

    __slots__ = ("provenance", "kind", "registered", "refused")

    def __init__(self, provenance: Provenance, kind: str | None) -> None:
        self.provenance = provenance
        self.kind = kind  # the registry an entry-point hook belongs to; None: any kind
        self.registered: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str]] = []  # (name, why) refused registrations


_local = _thread._local()


def _stack() -> list[LoadFrame]:
    stack: list[LoadFrame] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def current() -> LoadFrame | None:
    stack = _stack()
    return stack[-1] if stack else None


class loading:  # noqa: N801 - used like a function: ``with loading(prov): ...``
    """Context manager: code run inside registers with ``provenance``."""

    def __init__(self, provenance: Provenance, kind: str | None = None) -> None:
        self.frame = LoadFrame(provenance, kind)

    def __enter__(self) -> LoadFrame:
        _stack().append(self.frame)
        return self.frame

    def __exit__(self, *exc: object) -> None:
        _stack().pop()


def import_target(target: str) -> Any:
    """Import ``module`` or ``module:attr.sub`` (entry-point syntax, extras ignored)."""
    spec = target.split("[", 1)[0].strip()
    module_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj
