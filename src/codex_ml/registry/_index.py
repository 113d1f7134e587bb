"""The entry-point index as the registries read it: one lock around every use.

Threads that look up, auto-refresh and ``refresh()`` at once must never see
the in-process index half invalidated, so every read and reset goes through
here (the index itself lives in ``_epindex``).
"""

from __future__ import annotations

import _thread

from . import _epindex, _epview

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable

_lock = _thread.RLock()


def current() -> _epindex.Index:
    with _lock:
        return _epindex.current()


def records(group: str) -> list[_epindex.EPRecord]:
    with _lock:
        return list(_epindex.records(group))


def invalidate() -> None:
    with _lock:
        _epindex.invalidate()


def latest() -> _epindex.Index:
    """The index, rebuilt first if the installed distributions changed (auto-refresh)."""
    with _lock:
        if _epindex.changed():
            _epindex.invalidate()
        return _epindex.current()


def view(group: str, rules: Callable[[_epindex.EPRecord], str] | None) -> _epview.GroupView:
    """The names of ``group`` a registry lists, from the current index."""
    with _lock:
        return _epview.GroupView(_epindex.current(), group, rules)


def record(group_view: _epview.GroupView, key: str) -> _epindex.EPRecord | None:
    """The entry point ``group_view`` lists under ``key`` (its distribution checked fresh first)."""
    with _lock:
        return group_view.record(key)
