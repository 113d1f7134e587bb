"""How a registry is filled and kept current: loading, discovery, refresh, snapshots.

A mixin of ``Registry`` (kept apart so each module stays one concept): the
entry-point scan, hook runs, ``init_<kind>_plugins()``, lazy loading of
targets with failures recorded, ``refresh()`` and ``snapshot()``.
"""

from __future__ import annotations

import _thread
import builtins
import os

from . import _context, _discovery, _epindex, _epview, _plugindirs
from ._discovery import BUNDLES, DiscoveryReport, PluginFailure
from ._entry import NOT_LOADED, PLUGIN_FILE, Entry
from ._errors import RegistryLoadError
from ._generic import Generic, T
from ._names import normalise, validate_name
from ._once import Once

TYPE_CHECKING = False  # typing costs milliseconds to import: only the checker sees it
if TYPE_CHECKING:
    from typing import Any

    from ._interfaces import Interface


def _auto_refresh() -> bool:
    return os.environ.get("CODEX_ML_REGISTRY_AUTO_REFRESH", "").strip().lower() in ("1", "true", "yes", "on")


class Lifecycle(Generic[T]):
    """Discovery and loading for ``Registry`` (which supplies the table itself)."""

    if TYPE_CHECKING:
        kind: str
        label: str
        entry_point_group: str | None
        default_factory: bool
        interface: Interface | None
        scan_count: int
        _lock: Any
        _entries: dict[str, Entry]
        _aliases: dict[str, str]
        _deprecated: dict[str, tuple[str, str, str]]
        _fast: dict[str, Any]
        _gen: int
        _seen_index: object
        _hooks: builtins.list[_epindex.EPRecord]
        _ep_view: _epview.GroupView | None
        _ep_taken: set[str]
        _failures: dict[str, PluginFailure]
        _report: DiscoveryReport
        _scan_once: Once
        _hooks_once: Once
        _inited: bool
        _discovering: int | None

        def __init__(self, kind: str, *, entry_point_group: str | None = None, factory: bool = True,
                     label: str | None = None, publish: bool = True) -> None: ...
        def register(self, name: str, obj: Any = None, **kwargs: Any) -> Any: ...
        def _insert(self, entry: Entry, override: bool) -> None: ...
        def _invalidate(self) -> None: ...
        def _key(self, name: str) -> str | None: ...

    def _load(self, entry: Entry) -> Any:
        key = normalise(entry.name)
        failure = self._failures.get(key)
        if failure is not None:
            raise self._load_error(failure) from failure.error
        try:
            with _context.loading(entry.provenance, self.kind) as frame:
                obj = _context.import_target(entry.target)
            for refused, why in frame.refused:  # the import tried to register into another kind
                refusal = RegistryLoadError(refused, self.label, str(entry.provenance), why)
                self._report.failed.append(PluginFailure(self.kind, refused, entry.provenance, refusal))
            if _epview.hook_group(entry.provenance.entry_point) and _discovery.takes_register_fn(obj):
                return self._load_hook_entry(entry, obj)
            if isinstance(obj, type) and self.interface is not None:
                self.interface.check_class(obj, source=str(entry.provenance))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a plugin never ends the app
            failure = self._record_failure(PluginFailure(self.kind, entry.name, entry.provenance, exc))
            raise self._load_error(failure) from exc
        with self._lock:
            if not entry.loaded:
                entry.obj = obj
        return entry.obj

    def _load_hook_entry(self, entry: Entry, hook: Any) -> Any:
        """A factory-looking entry point that is a hook: run it, then look again."""
        with self._lock:
            self._entries.pop(normalise(entry.name), None)
        with _context.loading(entry.provenance, self.kind):
            _discovery.call_hook(hook, self.register)
        again = self._key(entry.name)
        if again is None:
            raise LookupError(f"hook {entry.provenance} did not register {entry.name!r}")
        return self._load(self._entries[again])

    def _load_error(self, failure: PluginFailure) -> RegistryLoadError:
        return RegistryLoadError(failure.name, self.label, str(failure.provenance), failure.cause)

    def _record_failure(self, failure: PluginFailure) -> PluginFailure:
        with self._lock:
            self._failures[normalise(failure.name)] = failure
            self._report.failed.append(failure)
        _discovery.warn_once(f"Skipped broken {self.label} plugin {failure}", key=f"fail:{self.kind}:{failure}")
        if _discovery.strict_mode():
            raise self._load_error(failure) from failure.error
        return failure

    def _ensure_scanned(self) -> None:
        if self._scan_once.done:
            if _auto_refresh() and self._stale():
                self.refresh()
            return
        _plugindirs.ensure_discovered()
        self._scan_once.run(self._scan_entry_points)

    def _stale(self) -> bool:
        if _epindex.changed():
            _epindex.invalidate()
        return self._seen_index is not _epindex.current() or _plugindirs.changed()

    def _scan_entry_points(self) -> None:
        self.scan_count += 1
        index = self._seen_index = _epindex.current()
        if not self.entry_point_group:
            return
        policy = _discovery.rules()  # read the environment once per scan, not per record
        rules = (lambda rec: _discovery.allowed(rec, policy)) if any(policy) else None
        view = _epview.GroupView(index, self.entry_point_group, rules)
        with self._lock:
            self._ep_view, self._ep_taken = view, set()
            self._report.disabled.extend(view.disabled)
            for key in [k for k in (*self._entries, *self._aliases) if k in view]:
                self._materialise(key)  # a clash with what is registered: precedence decides now
            for rec in view.set_apart():  # hooks, rejected names, collisions: each one looked at
                self._materialise(normalise(rec.name))
                self._add_record(rec, policy)

    def _materialise(self, key: str) -> None:
        """Build the Entry of an entry point the index lists, once (a lookup, a clash, discovery)."""
        if self._ep_view is None:
            return
        with self._lock:  # the view and its taken keys are read and changed together
            view = self._ep_view
            if view is None or key in self._ep_taken or key not in view:
                return
            self._ep_taken.add(key)
            rec = view.record(key)
            if rec is not None:  # None: its distribution changed and no longer has it
                self._add_record(rec, None)

    def _materialise_all(self) -> None:
        view = self._ep_view
        if view is not None:
            for key in view.listing.keys:
                self._materialise(key)

    def _add_record(self, rec: _epindex.EPRecord, policy: tuple[builtins.list[str], builtins.list[str]] | None) -> None:
        why = _discovery.allowed(rec, policy) if policy is not None else ""
        if why:
            self._report.disabled.append(f"{rec.group}:{rec.name} ({rec.distribution}): {why}")
            return
        if _epview.hook_group(rec.group) and _discovery.is_hook_target(rec.value):
            self._hooks.append(rec)
            return
        provenance = _discovery.provenance_of(rec)
        try:
            name = validate_name(rec.name, self.label)
        except (ValueError, TypeError) as exc:
            self._record_failure(PluginFailure(self.kind, rec.name, provenance, exc))
            return
        meta = {"version": rec.version, "author": None, "description": None, "tags": ()}
        entry = Entry(name, NOT_LOADED, provenance, self.default_factory, rec.value, meta)
        key = normalise(name)
        if key in self._entries or key in self._aliases:
            self._insert(entry, override=False)  # a clash: precedence decides
        else:
            self._entries[key] = entry  # the common case, under the scan's lock
            self._gen += 1

    def _run_hooks(self) -> None:
        self._ensure_scanned()
        self._hooks_once.run(self._run_hooks_now)

    def _run_hooks_now(self) -> None:
        BUNDLES.run()
        for rec in builtins.list(self._hooks):
            failure = _discovery.run_hook(self, rec, self.kind)
            if failure is not None:
                self._record_failure(failure)
            else:
                self._report.loaded.append(f"{rec.name} ({rec.distribution})")

    def discover(self, force: bool = False, strict: bool | None = None) -> DiscoveryReport:
        """``init_<kind>_plugins()``: scan and run every hook once per process.

        A plugin that calls this from its own hook (same thread) gets the report
        so far instead of starting discovery again inside itself.
        """
        me = _thread.get_ident()
        if self._discovering == me:
            return self.report()
        with self._lock:
            self._discovering = me
        try:
            self._discover_now(force)
        finally:
            self._discovering = None
        report = self.report()
        if _discovery.strict_mode(strict) and not report.ok:
            raise RegistryLoadError(self.kind, self.label, "plugin discovery", "; ".join(
                [str(f) for f in report.failed] + report.collisions))
        return report

    def _discover_now(self, force: bool) -> None:
        if force:
            self.refresh()
        if not self._inited or force:
            self._inited = True
            self._run_hooks()
            self._materialise_all()
            for entry in list(self._entries.values()):
                if entry.provenance.is_plugin and entry.target:
                    self._try_load(entry)

    def _try_load(self, entry: Entry) -> None:
        try:
            self._load(entry)
            self._report.loaded.append(f"{entry.name} ({entry.provenance.distribution or entry.provenance.file})")
        except RegistryLoadError:
            pass

    def report(self) -> DiscoveryReport:
        rep = self._report
        failed = rep.failed + [f for f in BUNDLES.failures if f not in rep.failed]
        return DiscoveryReport(self.kind, rep.loaded, failed, rep.disabled, rep.shadowed, rep.collisions)

    def pending_hooks(self) -> builtins.list[_epindex.EPRecord]:
        """Hook entry points of this kind's group that may load (they run on demand)."""
        self._ensure_scanned()
        return builtins.list(self._hooks)

    def failures(self) -> builtins.list[PluginFailure]:
        return list(self._failures.values())

    def refresh(self) -> None:
        """Drop what discovery found and scan again; in-process registrations stay."""
        import importlib

        _epindex.invalidate()
        importlib.invalidate_caches()
        if _plugindirs.changed():
            _plugindirs.discover_plugins(force=True)
        with self._lock:
            # Build the new table aside and swap it in whole: a reader sees the
            # old table or the new one, never one half rebuilt.
            scratch = type(self)(self.kind, entry_point_group=self.entry_point_group,
                                 factory=self.default_factory, label=self.label, publish=False)
            scratch._entries = {k: e for k, e in self._entries.items() if not self._from_own_group(e)}
            scratch._aliases = {a: k for a, k in self._aliases.items() if k in scratch._entries}
            scratch._scan_once.run(scratch._scan_entry_points)
            # Never publish an empty table; the generation moves before and after
            # the swap so a lookup that straddles it looks again.
            self._gen += 1
            for attr in ("_entries", "_aliases", "_hooks", "_failures", "_report", "_scan_once", "_seen_index",
                         "_ep_view", "_ep_taken"):
                setattr(self, attr, getattr(scratch, attr))
            self._hooks_once, self._inited = Once(), False
            self.scan_count += 1
            self._fast.clear()
            self._gen += 1

    def _from_own_group(self, entry: Entry) -> bool:
        """Found by this registry's entry-point scan or hooks (bundles and files stay)."""
        ep = entry.provenance.entry_point
        return bool(self.entry_point_group) and ep.startswith(f"{self.entry_point_group}:")

    def drop_plugin_files(self) -> None:
        """Forget registrations from plugin files (before they are imported again)."""
        with self._lock:
            self._entries = {k: e for k, e in self._entries.items() if e.provenance.source != PLUGIN_FILE}
            self._invalidate()

    def snapshot(self) -> _Snapshot[T]:
        """``with reg.snapshot(): ...`` restores this registry's whole state on exit."""
        return _Snapshot(self)




class _Snapshot(Generic[T]):
    """Saves a registry's state on enter, restores it on exit (test isolation)."""

    def __init__(self, registry: Lifecycle[T]) -> None:
        self.registry = registry
        self.state: dict[str, Any] = {}

    def __enter__(self) -> Lifecycle[T]:
        reg = self.registry
        with reg._lock:
            self.state = {k: _copy_state(v) for k, v in reg.__dict__.items()}
        return reg

    def __exit__(self, *exc: object) -> None:
        reg = self.registry
        with reg._lock:
            reg.__dict__.update(self.state)
            reg._invalidate()


def _copy_state(value: Any) -> Any:
    """A copy deep enough that changes made inside ``snapshot()`` do not leak out."""
    if isinstance(value, dict):
        return {k: v.copy() if isinstance(v, Entry) else v for k, v in value.items()}
    if isinstance(value, (list, set)):
        return type(value)(value)
    if isinstance(value, DiscoveryReport):
        return value.copy()
    return value
