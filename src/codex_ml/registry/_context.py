"""Which plugin a registration comes from.

Registrations made while a plugin's code runs (a hook, a bundle module, a
plugin file) take that plugin's provenance and precedence, and a per-kind
entry point that registers into a different kind is caught. A plugin's code
that registers later, from a thread it started or a factory it returned, is
recognised by its module (``owner_of_caller``): the top-level package of
every plugin that was loaded is remembered with the kinds it may provide.
"""

from __future__ import annotations

import _thread
import importlib
import sys

TYPE_CHECKING = False  # typing itself costs milliseconds to import

if TYPE_CHECKING:
    from typing import Any

    from ._entry import Provenance


class LoadFrame:
    """One plugin being loaded: what it registered and what was refused."""

    __slots__ = ("provenance", "kind", "registered", "refused", "later")

    def __init__(self, provenance: Provenance, kind: str | None, later: bool = False) -> None:
        self.provenance = provenance
        self.kind = kind  # the registry an entry-point hook belongs to; None: any kind
        self.registered: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str]] = []  # (name, why) refused registrations
        self.later = later  # found by owner_of_caller, not by a running load

    def allows(self, kind: str) -> bool:
        return self.kind is None or kind in self.kind.split("|")


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
        own(self.frame.provenance, self.frame.kind)
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


# top-level module of a loaded plugin -> (its provenance, the kinds it may register; None: any)
OWNERS: dict[str, tuple[Provenance, str | None]] = {}
_OURS = ("codex_ml", "")


def own(provenance: Provenance, kind: str | None) -> None:
    """Remember that ``provenance``'s top-level module is plugin code of ``kind``."""
    if not provenance.is_plugin:
        return
    top = (provenance.module or "").split(".", 1)[0]
    if top in _OURS:
        return
    known = OWNERS.get(top)
    if known is not None and known[1] is not None and kind is not None and kind not in known[1].split("|"):
        kind = f"{known[1]}|{kind}"  # one package providing several kinds
    elif known is not None and known[1] is None:
        kind = None
    OWNERS[top] = (provenance, kind)


def owner_of_caller() -> LoadFrame | None:
    """The plugin whose code called into the registry, outside any load (a thread, a factory)."""
    if not OWNERS:
        return None
    frame = sys._getframe(2)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        top = module.split(".", 1)[0]
        if top != "codex_ml":
            known = OWNERS.get(top)
            return None if known is None else LoadFrame(known[0], known[1], later=True)
        frame = frame.f_back  # type: ignore[assignment]
    return None
