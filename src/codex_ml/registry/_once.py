"""Run-once guards that are safe under threads and under re-entrance."""

from __future__ import annotations

import _thread

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
