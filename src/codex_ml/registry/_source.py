"""A registry's entry-point source: scan, hooks, loading, failures and report.

Each ``Registry`` is given one ``Source`` (its collaborator for discovery).
The source fills a table with lazy entries from the index of installed
entry points, runs hook entry points on demand, imports a lazy entry's
target on first use and records every failure instead of raising it.
"""

from __future__ import annotations

import _thread

from . import LazyModule, _epindex, _settings
from ._table import hook_group

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from . import _dirstate, _entry, _names, _report
    from ._entry import Entry
    from ._errors import RegistryLoadError
    from ._precedence import Outcome
    from ._report import DiscoveryReport, PluginFailure
    from ._table import Table
else:  # what only a lookup, a failure or a report needs, imported then: a listing never does
    _entry, _report, _dirstate, _names = (LazyModule(m, globals()) for m in ("_entry", "_report", "_dirstate",
                                                                            "_names"))


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

    def run(self, fn: Callable[[], object], patience: float | None = None) -> bool:
        """Run ``fn`` once; False when this call returned before it was done: re-entrant, waited
        for by the run (through an import), or after ``patience`` seconds of waiting for it."""
        if self.done:
            return True
        from ._locks import wait_for

        if wait_for(self.lock, lambda: self.owner, patience) != "taken":
            return False
        try:
            if self.done or self.owner == _thread.get_ident():
                return self.done
            self.owner = _thread.get_ident()
            try:
                self.runs += 1
                fn()
                self.done = True
            finally:
                self.owner = None
        finally:
            self.lock.release()
        return True


class Source:
    """Discovery state of one registry (kind, label and entry-point group are its owner's)."""

    def __init__(self, kind: str, label: str, group: str | None, factory: bool,
                 settings: Callable[[], _settings.Settings] = _settings.current) -> None:
        self.kind, self.label, self.group, self.factory = kind, label, group, factory
        self.settings = settings  # the settings of this process (rebuilt on reset), given, not looked up
        self.scan_count = 0  # how often entry points were scanned (tests, benchmarks)
        self.discovering: set[int] = set()  # the threads inside discover()
        # An explicit strict= of a discover() running now, by thread: it reaches the failures that
        # discover() records in its own thread and never another thread's.
        self.strict: dict[int, bool] = {}
        self.forcing = _thread.RLock()  # one ``discover(force=True)`` at a time: each starts over
        self.forget()

    def forget(self) -> None:
        """Back to the state before any discovery."""
        # init_once: the first discover() (hooks, then loading): a second thread waits for it
        self.scan_once, self.hooks_once, self.init_once = Once(), Once(), Once()
        self.hooks: list[_epindex.EPRecord] = []
        self.hooks_ran: set[_epindex.EPRecord] = set()
        self.failures: dict[str, PluginFailure] = {}
        self.registered_instead: dict[str, list[str]] = {}  # a hook's own name -> what it registered
        self._report: DiscoveryReport | None = None
        self.seen_index: object = None

    @property
    def report(self) -> DiscoveryReport:
        """What discovery found so far (made at first use: a plain listing has nothing to report)."""
        if self._report is None:
            self._report = _report.DiscoveryReport(self.kind)
        return self._report

    def strict_now(self) -> bool:
        import _thread

        given = self.strict.get(_thread.get_ident())
        return self.settings().strict if given is None else given

    # ------------------------------------------------------------ scanning
    def first_scan(self, registry: Any) -> None:
        """First access: the plugin folders (once per process), then this group's entry points (once)."""
        _dirstate.ensure_discovered()
        self.scan_once.run(lambda: self._scan_live(registry))

    def _scan_live(self, registry: Any) -> None:
        with registry._lock:
            self.scan(registry._table)
            registry._fast = {}  # after the table changed: see _lookup.access

    def scan(self, table: Table, live: Table | None = None) -> None:
        """Give ``table`` a view of the group's entry points; reuse ``live``'s unchanged entries.

        Entries are built now only where a registry must look: hooks, names
        our rules reject, colliding rows and names that clash with what is
        registered already; every other name waits for a lookup (``materialise``).
        """
        self.scan_count += 1
        self.seen_index = _epindex.current()
        if not self.group:
            return
        settings = self.settings()
        policy = (settings.disable, settings.allow)
        rules = _rules(policy) if any(policy) else None
        known = _by_entry_point(live) if live is not None else {}
        self.hooks = []
        view = _epindex.view(self.group, rules)
        table.view, table.taken = view, set()
        if view.disabled:
            self.report.disabled.extend(view.disabled)
        for key in view.among((*table.entries, *table.aliases)):
            self.materialise(table, key, known)  # a clash with what is registered: precedence decides now
        for rec in view.set_apart():  # hooks, rejected names, collisions: each one looked at
            self.materialise(table, _names.normalise(rec.name), known)
            self._add_record(table, rec, policy, known)
        if self.pending() and self.hooks_once.done:
            self.hooks_once = Once()  # a new hook appeared: it runs on demand

    def materialise(self, table: Table, key: str, known: dict[tuple[str, str], Entry] | None = None) -> None:
        """Build the Entry of an entry point the view lists, once (the registry's lock is held)."""
        view = table.view
        if view is None or key in table.taken or key not in view:
            return
        table.taken.add(key)
        rec = _epindex.record(view, key)
        if rec is not None:  # None: its distribution changed and no longer has it
            self._add_record(table, rec, None, known or {})

    def materialise_all(self, table: Table) -> None:
        view = table.view
        if view is not None:
            for key in view.listing.keys:
                self.materialise(table, key)

    def _add_record(self, table: Table, rec: _epindex.EPRecord, policy: Any, known: dict[tuple[str, str], Entry]) -> None:
        # Only names set apart or looked up get here, never a plain listing.
        from . import _discovery

        why = _discovery.allowed(rec, policy) if policy is not None else ""  # None: the view applied the rules
        if why:
            self.report.disabled.append(f"{rec.group}:{rec.name} ({rec.distribution}): {why}")
            return
        if hook_group(rec.group) and _discovery.is_hook_target(rec.value):
            self.hooks.append(rec)
            return
        provenance = _discovery.provenance_of(rec)
        entry = known.get((provenance.entry_point, provenance.dist_version))
        if entry is None:
            try:
                name = _names.validate_name(rec.name, self.label)
            except (ValueError, TypeError) as exc:
                self.record_failure(_report.PluginFailure(self.kind, rec.name, provenance, exc))
                return
            meta = {"version": rec.version, "author": None, "description": None, "tags": ()}
            entry = _entry.Entry(name, _entry.NOT_LOADED, provenance, self.factory, rec.value, meta)
        key = _names.normalise(entry.name)
        if table.entries.get(key) is entry:
            return  # kept from the live table: unchanged since the last scan
        if key in table.entries or key in table.aliases:
            from ._precedence import place

            self.note(place(table, entry, False, self.label))  # a clash: precedence decides
        else:
            table.entries[key] = entry  # the common case

    def survivor(self) -> Any:
        """A predicate for a rescan: entries of this group stay while their entry point is installed, unchanged."""
        group = self.group
        if not group:
            return lambda entry: True
        installed = {(f"{r.group}:{r.name} = {r.value}", r.version) for r in _epindex.records(group)}
        prefix, ep_at, version_at = f"{group}:", _entry.ENTRY_POINT_AT, _entry.DIST_VERSION_AT

        def keep(entry: Entry) -> bool:  # called for every entry of every refresh: no property calls
            ep = entry.provenance[ep_at]
            return not ep.startswith(prefix) or (ep, entry.provenance[version_at]) in installed

        return keep

    # ------------------------------------------------------------- records
    def record_failure(self, failure: PluginFailure) -> PluginFailure:
        from ._errors import warn_once

        self.failures[_names.normalise(failure.name)] = failure
        self.report.failed.append(failure)
        warn_once(f"Skipped broken {self.label} plugin {failure}", key=f"fail:{self.kind}:{failure}")
        if self.strict_now():
            raise self.load_error(failure) from failure.error
        return failure

    def note(self, outcome: Outcome) -> None:
        if not (outcome.shadowed or outcome.warn or outcome.collisions):
            return  # the common case: nothing to report
        from ._errors import RegistryCollisionError, warn_once

        self.report.shadowed.extend(outcome.shadowed)
        for message in outcome.warn:
            warn_once(f"Plugin shadowed in {self.kind}: {message}", key=f"shadow:{self.kind}:{message}")
        for clash in outcome.collisions:
            self.report.collisions.append(clash)
            if self.strict_now():
                raise RegistryCollisionError(clash.name, self.label, clash.existing, clash.new, strict=True)
            warn_once(f"Plugin collision in {self.kind}: {clash}", key=f"collide:{self.kind}:{clash}")

    def load_error(self, failure: PluginFailure) -> RegistryLoadError:
        from ._errors import RegistryLoadError

        return RegistryLoadError(failure.name, self.label, str(failure.provenance), failure.cause)

    def result(self) -> DiscoveryReport:
        from ._discovery import BUNDLES

        rep = self.report
        failed = rep.failed + [f for f in BUNDLES.failures if f not in rep.failed]
        return _report.DiscoveryReport(self.kind, rep.loaded, failed, rep.disabled, rep.shadowed, rep.collisions)

    # ------------------------------------------------------------- loading
    def load(self, entry: Entry, registry: Any) -> Any:
        """Import a lazy entry's target (once); a failure is recorded and raised as RegistryLoadError."""
        from . import _discovery

        return _discovery.load(self, entry, registry)

    def run_hooks(self, registry: Any) -> None:
        """Run the pending hook entry points once (other threads wait; re-entrance returns)."""
        self.hooks_once.run(lambda: self._run_hooks_now(registry))

    def pending(self) -> list[_epindex.EPRecord]:
        """Hook entry points that have not run yet."""
        return [h for h in self.hooks if h not in self.hooks_ran]

    def _run_hooks_now(self, registry: Any) -> None:
        from . import _discovery

        _discovery.BUNDLES.run()
        for rec in self.pending():
            failure = _discovery.run_hook(registry, rec, self.kind)
            self.hooks_ran.add(rec)
            if failure is not None:
                self.record_failure(failure)
            else:
                self.report.loaded.append(_report.loaded_line(rec.name, rec.distribution))

    def stale(self) -> bool:
        """Auto-refresh: the installed distributions or the plugin files changed."""
        return self.seen_index is not _epindex.latest() or _dirstate.changed()

    def auto_refresh(self) -> bool:
        return self.settings().auto_refresh


def _rules(policy: tuple[tuple[str, ...], tuple[str, ...]]) -> Callable[[_epindex.EPRecord], str]:
    """CODEX_ML_PLUGINS_DISABLE / _ALLOW as the view applies them."""
    from . import _discovery

    return lambda rec: _discovery.allowed(rec, policy)


def _by_entry_point(table: Table) -> dict[tuple[str, str], Entry]:
    """Lazy entries of a table by (entry point, version): reused by a rescan that finds them unchanged."""
    return {(e.provenance.entry_point, e.provenance.dist_version): e
            for e in table.entries.values() if e.target and e.provenance.entry_point}

