"""Where plugin-folder discovery stands: its roots, its last report, its stamps.

This is all a registry reads on every access; importing and checking the
files (``_plugindirs``, ``_fsafe``) is loaded only when there is a folder to
import from (docs/guides/directory_plugins.md).
"""

from __future__ import annotations

import _thread
import os

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


class DirReport:
    """What one discovery pass over the plugin directories did."""

    __slots__ = ("failed", "loaded", "missing", "refused", "roots")

    def __init__(self, roots: list[str] | None = None) -> None:
        self.roots: list[str] = list(roots or ())
        self.loaded: list[str] = []
        self.failed: dict[str, BaseException] = {}
        self.refused: dict[str, str] = {}
        self.missing: dict[str, str] = {}  # a root that is not a folder -> what it is instead


class _State:
    def __init__(self) -> None:
        self.lock = _thread.RLock()
        self.auto = True
        self.ran = False
        self.owner: int | None = None  # the thread running discovery now
        self.report = DirReport()
        self.stamps: dict[str, int] = {}
        self.runs = 0
        # Files `codex-ml doctor` found hanging in a child process: never imported here.
        self.skip: dict[str, BaseException] = {}


STATE = _State()


def default_roots() -> list[str]:
    from . import _settings

    return _settings.plugin_roots(_settings.current())


def ensure_discovered() -> None:
    """Auto-discovery of plugin folders on first access (cheap when done, disabled or without folders).

    Other threads wait for a pass in progress; a plugin file that calls back
    into the registry from its own import returns at once. A pass with no
    folder now or before only records that it ran; one with folders is
    coordinated across the registries by ``_world``.
    """
    if STATE.ran or not STATE.auto or STATE.owner == _thread.get_ident():
        return
    if STATE.report.roots or default_roots():
        from . import _world

        _world.discover_plugins()
    else:
        discover_plugins()


def set_auto_discover(enabled: bool) -> None:
    """Turn discovery on first registry access on or off."""
    STATE.auto = bool(enabled)


def reset_discovery() -> None:
    """Forget what ran: the next access or ``discover_plugins()`` scans again."""
    with STATE.lock:
        STATE.ran = False
        STATE.report = DirReport()
        STATE.stamps = {}


def discover_plugins(paths: Sequence[str | os.PathLike[str]] | None = None, force: bool = False) -> DirReport:
    """Import every plugin file under ``paths`` (default roots when None)."""
    from ._locks import wait_for

    if wait_for(STATE.lock, lambda: STATE.owner) != "taken":
        return STATE.report  # the pass waits for an import this thread is running: see _locks
    try:
        if STATE.owner is not None or (STATE.ran and not force and paths is None):
            return STATE.report
        STATE.owner = _thread.get_ident()
        try:
            roots = [os.fspath(p) for p in paths] if paths is not None else default_roots()
            before = snapshot_stamps(roots)
            report = _scan(roots)
            STATE.stamps = _as_before(before, snapshot_stamps(roots))  # before `ran`: changed() reads both
            STATE.report, STATE.ran, STATE.runs = report, True, STATE.runs + 1
            return report
        finally:
            STATE.owner = None
    finally:
        STATE.lock.release()


def _scan(roots: list[str]) -> DirReport:
    if not roots and not STATE.report.roots:
        return DirReport()  # no folder now or before: nothing to import, nothing to forget
    from . import _plugindirs

    return _plugindirs.scan(roots)


def snapshot_stamps(roots: Iterable[str]) -> dict[str, int]:
    """mtime of every folder and .py file under the roots (for auto-refresh)."""
    stamps: dict[str, int] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
            for p in [dirpath, *(os.path.join(dirpath, f) for f in filenames if f.endswith(".py"))]:
                try:
                    stamps[p] = os.stat(p).st_mtime_ns
                except OSError:
                    pass
    return stamps


def _as_before(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The stamps to keep after a pass: a ``.py`` file edited or added while the pass ran keeps
    its stamp from before it (or none), so the next check sees the edit; folders keep their
    new stamp, so a plugin that writes files beside itself does not cause a pass every time."""
    return {p: (before.get(p, -1) if p.endswith(".py") else t) for p, t in after.items()}


def changed() -> bool:
    return STATE.ran and snapshot_stamps(STATE.report.roots) != STATE.stamps
