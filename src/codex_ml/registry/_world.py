"""What spans every registry: plugin folders, ``discover``, ``refresh`` and ``reset``.

Plugin files register into any kind, so a pass over the plugin folders is
coordinated here: files are imported again over the live tables (an
unchanged file's component never disappears), then the entries of files
that are gone or no longer register them are dropped.
"""

from __future__ import annotations

import _thread
import os

from . import _dirstate, _epindex, _lookup, _settings
from ._entry import PLUGIN_FILE

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ._dirstate import DirReport
    from ._report import DiscoveryReport
    from ._source import Source


def registries() -> list[Any]:
    from ._directory import all_registries

    return all_registries()


# ------------------------------------------------------------ plugin folders
def discover_plugins(paths: Sequence[str | os.PathLike[str]] | None = None, force: bool = False) -> DirReport:
    """Import every plugin file under ``paths`` (default: CODEX_ML_PLUGIN_PATH, else ./plugins).

    A folder in ``paths`` that does not exist is an error before anything is imported; one
    in CODEX_ML_PLUGIN_PATH is a warning, recorded in the report's ``missing``.
    """
    for path in paths or ():
        if not os.path.isdir(path):
            from ._plugindirs import not_a_folder

            raise FileNotFoundError(f"plugin folder {os.fspath(path)!r} {not_a_folder(os.fspath(path))} "
                                    "(given to discover_plugins); nothing was imported. Fix: create it, or "
                                    "pass the folder that holds your plugin files.")
    state = _dirstate.STATE
    before = state.runs
    # Entries of plugin files can only exist after a pass that had folders to import from.
    outer = state.owner is None and bool(paths or state.report.roots or _dirstate.default_roots())
    if outer:  # the entries themselves are held, so no id() can be reused during the pass
        old = {id(e): e for reg in registries() for e in list(reg._table.entries.values())
               if e.provenance.source == PLUGIN_FILE}
    report = _dirstate.discover_plugins(paths, force)
    if outer and state.runs != before:
        _drop_stale_files(report, old)
    return report


def _drop_stale_files(report: DirReport, old: dict[int, Any]) -> None:
    """Entries of files under the pass's roots that this pass did not register again."""
    roots = [os.path.join(os.path.abspath(r), "") for r in report.roots]

    def stale(entry: Any) -> bool:
        file = str(entry.provenance.file)
        if old.get(id(entry)) is not entry:
            return False  # registered again by this pass (or not a plugin file's)
        return any(file.startswith(r) for r in roots)

    for reg in registries():
        with reg._lock:
            if any(stale(e) for e in list(reg._table.entries.values())):
                swap(reg, reg._table.copy(lambda e: not stale(e)))


def forget(reg: Any, keep: Any = None) -> None:
    """Drop what discovery found (``keep``: what stays instead, for the isolated test world)."""
    with reg._lock:
        table = reg._table.copy(keep or (lambda e: not e.provenance.is_plugin))
        if keep is not None:  # the isolated test world: built-ins only
            table.deprecated = {}
        table.view, table.taken = None, set()  # the next access scans again
        swap(reg, table)
        reg.source.forget()


def swap(reg: Any, table: Any) -> None:
    """Publish ``table`` in one assignment: readers see the old table or this one."""
    with reg._lock:
        reg._table = table
        reg._fast = {}  # after the table changed: see _lookup.access


# ----------------------------------------------------------------- discover
def discover(reg: Any, force: bool, strict: bool | None) -> DiscoveryReport:
    """Scan and run every hook once per process; ``strict=`` wins over CODEX_ML_PLUGINS_STRICT.

    A plugin that calls this from its own hook (same thread) gets the report
    so far instead of starting discovery again inside itself.
    """
    import _thread

    source: Source = reg.source
    me = _thread.get_ident()
    if me in source.discovering:
        return source.result()
    source.discovering.add(me)
    if strict is not None:
        source.strict[me] = bool(strict)
    try:
        _discover_now(reg, force)
        report = source.result()
        if source.strict_now() and not report.ok:
            raise _strict_error(reg, report)
        return report
    finally:
        source.discovering.discard(me)
        source.strict.pop(me, None)


def _strict_error(reg: Any, report: DiscoveryReport) -> Exception:
    """Strict mode: the first problem by name, with the others after it."""
    from ._errors import RegistryCollisionError, RegistryLoadError

    if not report.failed:
        clash = report.collisions[0]
        return RegistryCollisionError(clash.name, reg.label, clash.existing, clash.new, strict=True)
    first, others = report.failed[0], [str(f) for f in report.failed[1:]] + report.collisions
    more = f" (and {len(others)} more: {'; '.join(others)})" if others else ""
    error = RegistryLoadError(first.name, reg.label, str(first.provenance), first.cause + more)
    error.__cause__ = first.error
    return error


def _discover_now(reg: Any, force: bool) -> None:
    if not force:
        return _discover_once(reg, None)
    # Forced runs take turns (two would each start over what the other is doing), but wait only
    # so long: plugin code of one may be waiting for the thread of the other.
    forcing = reg.source.forcing
    turn = forcing.acquire(timeout=DISCOVERY_PATIENCE)
    try:
        return _discover_once(reg, _start_over(reg))
    finally:
        if turn:
            forcing.release()


def _discover_once(reg: Any, before: dict[int, Any] | None) -> None:
    source: Source = reg.source
    _lookup.ensure_scanned(reg)
    # Once: a second thread's discover() waits for the first one's hooks and loading, so its
    # report (and strict=True) sees their failures too; but only so long, since plugin code
    # may itself be waiting for that thread (a join Python cannot see).
    done = source.init_once.run(lambda: _first_discovery(reg, source), DISCOVERY_PATIENCE)
    if done and before:
        _drop_unregistered(reg, before)
    owner = source.init_once.owner
    if not done and owner is not None and owner != _thread.get_ident():
        from ._errors import warn_once

        warn_once(f"discover() of {reg.kind}: another thread's first discovery is still running (its "
                  "plugin code may be waiting for this thread); this report has only what is known "
                  "so far. Call discover() again once it is done for the whole report.",
                  key=f"discovery-waited:{reg.kind}")


def _start_over(reg: Any) -> dict[int, Any]:
    """``force=True``: discovery runs again over the live table, so that what it finds now replaces
    what it found before (docs/guides/entry_points.md); a hook's registration stays visible until
    the hook registers that name again. Returns the hooks' registrations as they were."""
    source: Source = reg.source
    hooks = {_entry_point(rec) for rec in source.hooks}
    before = {id(e): e for e in list(reg._table.entries.values()) if e.provenance.entry_point in hooks}
    source.failures, source._report = {}, None  # a new run, a new report: every plugin is tried again
    source.hooks_ran = set()  # every hook runs again
    source.hooks_once, source.init_once = type(source.hooks_once)(), type(source.init_once)()
    refresh(reg)
    return before


def _entry_point(rec: Any) -> str:
    """A hook record as its registrations' provenance quotes it."""
    return f"{rec.group}:{rec.name} = {rec.value}"


def _drop_unregistered(reg: Any, before: dict[int, Any]) -> None:
    """Registrations of hooks that ran again and did not register that name this time."""
    ran = {_entry_point(rec) for rec in reg.source.hooks_ran}

    def stale(entry: Any) -> bool:
        return entry.provenance.entry_point in ran and before.get(id(entry)) is entry

    with reg._lock:
        if any(stale(e) for e in reg._table.entries.values()):
            swap(reg, reg._table.copy(lambda e: not stale(e)))


def _first_discovery(reg: Any, source: Source) -> None:
    source.run_hooks(reg)
    with reg._lock:
        source.materialise_all(reg._table)
    for entry in list(reg._table.entries.values()):
        if entry.provenance.is_plugin and entry.target and not entry.loaded:
            _try_load(reg, entry)


def _try_load(reg: Any, entry: Any) -> None:
    from ._errors import RegistryLoadError, UnknownComponentError

    try:
        reg[entry.name]
    except RegistryLoadError:
        return  # recorded as failed
    except UnknownComponentError:
        pass  # a hook behind a factory's name: it ran and registered other names (or was shadowed)
    from ._report import loaded_line

    reg.source.report.loaded.append(loaded_line(entry.name, entry.provenance.distribution or entry.provenance.file))


# ------------------------------------------------------------------ refresh
def refresh(reg: Any) -> None:
    """Scan again and swap the new table in whole; what did not change stays, loaded."""
    _epindex.invalidate()
    invalidate_import_caches()
    if _dirstate.changed():
        discover_plugins(force=True)
    source: Source = reg.source
    with reg._lock:
        if not source.scan_once.done:
            return  # never scanned: the first access scans
        table = reg._table.copy(source.survivor())
        source.scan(table, live=reg._table)
        swap(reg, table)
    if source.pending() and source.init_once.runs:  # discover() began: new hooks run now
        source.run_hooks(reg)  # new hooks of a discovered registry: outside the lock (hooks register)


_IMPORT_CACHES = _thread.allocate_lock()
DISCOVERY_PATIENCE = 10.0  # seconds a discover() waits for another thread's first one


def invalidate_import_caches(tries: int = 8) -> None:
    """``importlib.invalidate_caches()``, safe when other threads call it too.

    CPython's path finder walks a copy of ``sys.path_importer_cache`` and
    deletes its stale entries: two threads doing so at once may delete the
    same entry, and one of them gets a ``KeyError`` halfway through. Our own
    calls take turns; a call that races somebody else's is made again (each
    try starts from the cache as it is then, and invalidating twice is harmless).
    """
    import importlib

    with _IMPORT_CACHES:
        for _ in range(tries - 1):
            try:
                importlib.invalidate_caches()
                return
            except KeyError:
                continue
        importlib.invalidate_caches()


# ---------------------------------------------------------------- the rest
def searched_places(reg: Any) -> list[str]:
    places = [f"{len(reg._table.entries) + len(reg._table.listed())} registered {reg.kind}"]
    if reg.entry_point_group:
        places.append(f"entry-point group {reg.entry_point_group!r} on sys.path")
    roots = _dirstate.STATE.report.roots
    places.append(f"plugin folders {roots}" if roots else "no plugin folders (set CODEX_ML_PLUGIN_PATH)")
    return places


def reset_discovery() -> None:
    """Forget what discovery found: the next access discovers again, as a first access does."""
    _settings.reset()
    _dirstate.reset_discovery()
    _epindex.invalidate()
    from ._discovery import BUNDLES

    BUNDLES.reset()
    for reg in registries():
        reg.forget_discovery()
