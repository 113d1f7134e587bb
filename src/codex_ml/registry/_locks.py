"""Waiting for a discovery lock without deadlocking on an import.

Discovery holds a lock while it imports plugin code. If that code imports a
module that another thread is importing right now, and that module's body
uses a registry, the other thread waits for discovery while discovery waits
for its import: Python only detects cycles made of its own module locks, so
both would hang. A waiter here looks for that cycle through the import
system's record of who waits for which module, and stops waiting when it
finds one; it is then treated like a plugin calling back into discovery from
its own import (docs/guides/directory_plugins.md, "Plugins that use the
registry while they load").
"""

from __future__ import annotations

import _thread
import sys

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable

POLL = 0.05  # seconds between looks for a cycle; an uncontended lock is taken at once


def wait_for(lock: _thread.RLock, holder: Callable[[], int | None], patience: float | None = None) -> str:
    """Take ``lock``: "taken"; without it, "cycle" when ``holder()`` waits (through imports) for
    this thread, "late" after ``patience`` seconds (a wait Python cannot see, such as a join)."""
    import time

    deadline = None if patience is None else time.monotonic() + patience
    while not lock.acquire(timeout=POLL):
        if waits_for_me(holder()):
            return "cycle"
        if deadline is not None and time.monotonic() > deadline:
            return "late"
    return "taken"


def waits_for_me(thread: int | None) -> bool:
    """True when ``thread`` waits for a module lock that this thread holds, directly or in a chain."""
    bootstrap = sys.modules.get("importlib._bootstrap")
    blocking = getattr(bootstrap, "_blocking_on", None)
    if blocking is None:
        return False
    me, seen = _thread.get_ident(), set()
    while thread is not None and thread not in seen:
        seen.add(thread)
        waiting = blocking.get(thread)
        # Python 3.11 keeps the one module lock a thread waits for; 3.12 and later keep a list.
        locks = waiting if isinstance(waiting, list) else [] if waiting is None else [waiting]
        owners = [getattr(lock, "owner", None) for lock in locks]
        if me in owners:
            return True
        thread = next((o for o in owners if o is not None), None)
    return False
