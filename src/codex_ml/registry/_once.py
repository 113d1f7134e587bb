"""Run-once guards that are safe under threads and under re-entrance, and modules imported on first use."""

from __future__ import annotations

import _thread
import sys

TYPE_CHECKING = False  # typing itself costs milliseconds to import

if TYPE_CHECKING:
    from collections.abc import Callable


class Once:
    """Run a function once; other threads wait for it, a re-entrant call returns.

    Double-checked: after the first run, ``run`` costs one attribute read. A
    plugin that calls back into discovery from its own import (same thread)
    returns at once instead of deadlocking or recursing.
    """

    def __init__(self) -> None:
        self.lock = _thread.RLock()
        self.done = False
        self.owner: int | None = None
        self.runs = 0

    def run(self, fn: Callable[[], object]) -> None:
        if self.done:
            return
        with self.lock:
            if self.done or self.owner == _thread.get_ident():
                return
            self.owner = _thread.get_ident()
            try:
                self.runs += 1
                fn()
                self.done = True
            finally:
                self.owner = None


class LazyModule:
    """A sibling module imported at its first attribute access (what only some calls need).

    The importer's global of that name is then the module itself, so later
    calls cost what a plain module-level import costs.
    """

    __slots__ = ("_home", "_name")

    def __init__(self, name: str, home: dict[str, object]) -> None:
        self._name, self._home = name, home

    def __getattr__(self, attr: str) -> object:
        full = f"{__package__}.{self._name}"
        module = sys.modules.get(full)
        if module is None:
            __import__(full)
            module = sys.modules[full]
        self._home[self._name] = module
        return getattr(module, attr)
