"""The slow path of a registry look-up: scan first, follow a deprecated name, run hooks,
build an entry point's Entry, load it once and remember it for the hot path."""

from __future__ import annotations

from . import _dirstate, _names, _registering

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._entry import Entry
    from ._registry import Registry


def find(reg: Registry[Any], name: str) -> Entry | None:
    """The entry of ``name`` (an old name warns and gives the new one's), running hooks if needed."""
    _registering.require_str(name, reg.label)
    ensure_scanned(reg)
    key = _names.normalise(name)
    deprecated = reg._table.deprecated.get(key)
    if deprecated is not None:
        import warnings

        warnings.warn(deprecated[2], DeprecationWarning, stacklevel=4)
        name = deprecated[1]
    entry = _entry_of(reg, name)  # one table: a refresh swaps it whole
    if entry is None and not reg.source.hooks_once.done:
        reg.source.run_hooks(reg)
        entry = _entry_of(reg, name)
    failure = reg.source.failures.get(key) if entry is None else None
    if failure is not None:  # a broken hook of that very name
        raise reg.source.load_error(failure) from failure.error
    return entry


def get(reg: Registry[Any], name: str, default: Any, fast: dict[str, Any]) -> Any:
    """``Registry.get`` after a miss of the hot path."""
    entry = find(reg, name)
    if entry is None:
        return default
    try:
        return access(reg, name, entry, fast)
    except KeyError as exc:  # a hook listed under that name ran and registered other names
        from ._errors import UnknownComponentError

        if isinstance(exc, UnknownComponentError):
            return default
        raise


def _entry_of(reg: Registry[Any], name: str) -> Entry | None:
    """The entry of ``name``; an entry point the view lists gets its Entry now."""
    table = reg._table
    entry = table.find(name)
    if entry is None and table.view is not None and name.isascii():
        key = _names.normalise(name)
        if key in table.view:  # a name the group does not list is absent without the lock
            with reg._lock:  # another thread may be building it: wait, then look again
                table = reg._table
                reg.source.materialise(table, key)
                entry = table.find(name)
    return entry


def access(reg: Registry[Any], name: str, entry: Entry, fast: dict[str, Any]) -> Any:
    """The entry's object, loaded once; remembered for the hot path unless it must be checked again.

    ``fast`` is the registry's hot-path dict as it was before ``entry`` was
    looked up. Every writer changes the table first and then replaces that
    dict with a new one, so the object is remembered without a lock: if a
    writer changed the table since, either the dict is no longer the
    registry's (nothing is stored) or the writer replaces it before it
    returns (what was stored is dropped with it).
    """
    if not entry.loaded:
        obj = reg.source.load(entry, reg)
        with reg._lock:
            if not entry.loaded:
                entry.obj = obj
    obj = entry.obj
    if reg.checks is not None and reg.checks.on_access(entry):
        return obj  # checked on every access: never cached
    if reg._fast is fast and _names.normalise(name) not in reg._table.deprecated and not reg.source.auto_refresh():
        fast[name] = obj
    return obj


def ensure_scanned(reg: Registry[Any]) -> None:
    """First access: plugin folders, then this registry's entry points (once); auto-refresh after.

    An access made while auto-discovery was off is not the first one for the plugin
    folders: their pass runs on the first access after ``set_auto_discover(True)``.
    """
    source = reg.source
    if not source.scan_once.done:
        source.first_scan(reg)
    elif not _dirstate.STATE.ran and _dirstate.STATE.auto:
        _dirstate.ensure_discovered()
    elif source.auto_refresh() and source.stale():
        reg.refresh()
