"""``Registry``: one generic, thread-safe, lazy registry class for every kind."""

from __future__ import annotations

import _thread
import builtins
import os
import warnings

from . import _context, _discovery, _epindex, _plugindirs, _search
from ._discovery import BUNDLES, DiscoveryReport, PluginFailure
from ._entry import (
    BUILTIN,
    IN_PROCESS,
    NOT_LOADED,
    PLUGIN_FILE,
    Entry,
    Provenance,
    object_provenance,
)
from ._errors import (
    RegistryCollisionError,
    RegistryLoadError,
    UnknownComponentError,
)
from ._interfaces import Interface
from ._names import normalise, validate_name
from ._once import Once
from ._precedence import Decision, decide, target_of

TYPE_CHECKING = False  # typing costs milliseconds to import: only the checker sees it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from typing import Any, Generic, TypeVar

    T = TypeVar("T")
else:
    class Generic:
        """``Registry[Model]`` works at run time without importing typing."""

        def __class_getitem__(cls, item):
            return cls

    T = None

_STANDARD_META = ("version", "author", "description", "tags")


def _auto_refresh() -> bool:
    return os.environ.get("CODEX_ML_REGISTRY_AUTO_REFRESH", "").strip().lower() in ("1", "true", "yes", "on")


class Registry(Generic[T]):
    """Named components of one kind, from code, entry points and plugin files.

    >>> schedulers = Registry("schedulers", entry_point_group="codex_ml.schedulers")
    >>> @schedulers.register("cosine", tags=("lr",))
    ... def cosine(**kw): ...
    >>> schedulers.list()
    ['cosine']
    """

    def __init__(
        self,
        kind: str,
        *,
        entry_point_group: str | None = None,
        factory: bool = True,
        interface: Interface | None = None,
        label: str | None = None,
        on_access: Callable[[Entry], None] | None = None,
        publish: bool = True,
    ) -> None:
        self.kind = kind
        self.label = label or kind.rstrip("s").replace("_", " ")
        self.entry_point_group = entry_point_group
        self.default_factory = factory
        self.interface = interface
        self._on_access = on_access
        self._lock = _thread.RLock()
        self._reset_state()
        self.scan_count = 0  # how often entry points were scanned (tests, benchmarks)
        self._discovering: int | None = None  # the thread inside discover()
        if publish:
            _publish(self)

    def _reset_state(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        self._deprecated: dict[str, tuple[str, str, str]] = {}
        # Hot-path cache: the exact string asked for -> loaded object. Cleared
        # on every change; ``_gen`` stops a racing reader from re-filling it
        # with an object that was just unregistered.
        self._fast: dict[str, Any] = {}
        self._gen = 0
        self._seen_index: object = None
        self._hooks: builtins.list[_epindex.EPRecord] = []
        self._failures: dict[str, PluginFailure] = {}
        self._report = DiscoveryReport(self.kind)
        self._scan_once, self._hooks_once = Once(), Once()
        self._inited = False

    def __repr__(self) -> str:
        group = f", entry_point_group={self.entry_point_group!r}" if self.entry_point_group else ""
        return f"Registry({self.kind!r}{group})"

    # ------------------------------------------------------------ register
    def register(
        self,
        name: str,
        obj: Any = None,
        *,
        override: bool = False,
        factory: bool | None = None,
        aliases: Sequence[str] = (),
        **metadata: Any,
    ) -> Any:
        """Register ``obj`` under ``name``; without ``obj``, return a decorator."""
        if obj is None:
            def decorator(target: Any) -> Any:
                self.register(name, target, override=override, factory=factory, aliases=aliases, **metadata)
                return target

            return decorator
        display = validate_name(name, self.label)
        provenance = self._provenance(obj)
        entry = self._make_entry(display, obj, provenance, factory, aliases, metadata)
        frame = _context.current()
        if frame is not None and frame.kind not in (None, self.kind):
            why = (f"registered {self.label} {display!r} from a {frame.kind} entry point; a plugin "
                   "that provides several kinds belongs in the 'codex_ml.plugins' group")
            frame.refused.append((display, why))
            _discovery.warn_once(f"Refused a registration by {provenance}: {why}", key=f"kind:{why}")
            return obj
        if isinstance(obj, type) and self.interface is not None:
            self.interface.check_class(obj, source=str(provenance))
        self._insert(entry, override)
        if frame is not None:
            frame.registered.append((self.kind, display))
        return obj

    def register_lazy(
        self,
        name: str,
        target: str,
        *,
        builtin: bool = False,
        override: bool = False,
        factory: bool | None = None,
        aliases: Sequence[str] = (),
        **metadata: Any,
    ) -> None:
        """Register ``"module:attr"`` without importing it (the built-in catalogue's way)."""
        display = validate_name(name, self.label)
        module, _, qualname = target.partition(":")
        provenance = Provenance(
            BUILTIN if builtin else IN_PROCESS, module=module, qualname=qualname,
            distribution="codex-ml" if builtin else "",
        )
        entry = self._make_entry(display, NOT_LOADED, provenance, factory, aliases, metadata)
        entry.target = target
        self._insert(entry, override)

    def _provenance(self, obj: Any) -> Provenance:
        frame = _context.current()
        own = object_provenance(obj)
        if frame is None:
            return own
        return frame.provenance.replace(module=own.module, qualname=own.qualname,
                                        file=frame.provenance.file or own.file, line=own.line)

    def _make_entry(
        self, name: str, obj: Any, provenance: Provenance, factory: bool | None,
        aliases: Sequence[str], metadata: Mapping[str, Any],
    ) -> Entry:
        meta: dict[str, Any] = {k: None for k in _STANDARD_META}
        meta["tags"] = ()
        meta.update(metadata)
        meta["tags"] = _tags(meta["tags"], name)
        alias_names = tuple(validate_name(a, self.label) for a in aliases)
        is_factory = self.default_factory if factory is None else bool(factory)
        return Entry(name, obj, provenance, is_factory, metadata=meta, aliases=alias_names)

    def _insert(self, entry: Entry, override: bool) -> None:
        key = normalise(entry.name)
        with self._lock:
            old = self._entries.get(key)
            decision = Decision(True) if old is None else decide(old, entry, override, self.label)
            if decision.fill_lazy and old is not None:
                old.obj = entry.obj
            if decision.replace:
                self._check_aliases(key, entry)  # before anything changes: all or nothing
                self._entries[key] = entry
                for alias in entry.aliases:
                    self._aliases[normalise(alias)] = key
                self._failures.pop(key, None)
            self._invalidate()
        if decision.shadowed:
            self._report.shadowed.append(decision.shadowed)
        if decision.collision:
            self._note_collision(entry.name, decision.collision)

    def _invalidate(self) -> None:
        with self._lock:
            self._gen += 1
            self._fast.clear()

    def _check_aliases(self, key: str, entry: Entry) -> None:
        """An alias may not take another entry's name or another entry's alias."""
        for alias in entry.aliases:
            akey = normalise(alias)
            owner_key = akey if akey in self._entries else self._aliases.get(akey, key)
            if akey == key or owner_key == key:
                continue
            owner = self._entries.get(owner_key)
            where = str(owner.provenance) if owner is not None else "another entry"
            raise RegistryCollisionError(alias, self.label, where, f"an alias of {entry.name!r} ({entry.provenance})",
                                         owner.name if owner is not None else "")

    def _note_collision(self, name: str, message: str) -> None:
        self._report.collisions.append(message)
        if _discovery.strict_mode():
            raise RegistryCollisionError(name, self.label, message, "strict mode (CODEX_ML_PLUGINS_STRICT=1)")
        _discovery.warn_once(f"Plugin collision in {self.kind}: {message}", key=f"collide:{self.kind}:{message}")

    def deprecate(self, old: str, new: str, message: str | None = None) -> None:
        """Make ``old`` resolve to ``new`` with a DeprecationWarning; hide it from list()."""
        validate_name(old, self.label)
        note = message or f"{self.label} {old!r} is deprecated; use {new!r} instead"
        with self._lock:
            self._deprecated[normalise(old)] = (old, new, note)
            self._invalidate()

    def unregister(self, name: str) -> None:
        _require_str(name, self.label)
        with self._lock:
            key = self._key(name)
            if key is None or key not in self._entries:
                raise self._unknown(name)
            entry = self._entries.pop(key)
            for alias in entry.aliases:
                self._aliases.pop(normalise(alias), None)
            self._invalidate()

    # ------------------------------------------------------------- look up
    def get(self, name: str, default: Any = None) -> Any:
        """The registered object (loaded if lazy), or ``default`` if absent."""
        try:
            return self._fast[name]
        except (KeyError, TypeError):
            pass
        gen = self._gen
        entry = self._find(name)
        return default if entry is None else self._access(name, entry, gen)

    def __getitem__(self, name: str) -> T:
        try:
            return self._fast[name]  # type: ignore[no-any-return]
        except (KeyError, TypeError):
            pass
        gen = self._gen
        entry = self._find(name)
        if entry is None:
            raise self._unknown(name)
        return self._access(name, entry, gen)  # type: ignore[no-any-return]

    def create(self, name: str, /, **kwargs: Any) -> Any:
        """Build the component: call the class or factory with ``kwargs``."""
        obj = self[name]
        entry = self._find(name)
        if entry is None or not entry.factory:
            if kwargs and callable(obj):
                import functools

                return functools.partial(obj, **kwargs)
            return obj
        product = obj(**kwargs) if callable(obj) else obj
        if self.interface is not None and not isinstance(obj, type):
            self.interface.check_product(product, source=f"returned by {entry.provenance}")
        return product

    resolve_and_instantiate = create

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def _key(self, name: str) -> str | None:
        if not name.isascii():  # names are ASCII; '\u212a'.lower() must not find 'k'
            return None
        key = normalise(name)
        if key in self._entries:
            return key
        return self._aliases.get(key)

    def _find(self, name: str) -> Entry | None:
        _require_str(name, self.label)
        entry = None
        for _ in range(8):  # a refresh swapped the table during this lookup: look again
            gen = self._gen
            entry = self._find_once(name)
            if entry is not None or gen == self._gen:
                break
        return entry

    def _find_once(self, name: str) -> Entry | None:
        self._ensure_scanned()
        key = normalise(name)
        if key in self._deprecated:
            _, new, note = self._deprecated[key]
            warnings.warn(note, DeprecationWarning, stacklevel=4)
            key = normalise(new)
        found = self._key(key)
        if found is None and not self._hooks_once.done:
            self._run_hooks()
            found = self._key(key)
        if found is None and key in self._failures:  # a broken hook of that very name
            failure = self._failures[key]
            raise self._load_error(failure) from failure.error
        return None if found is None else self._entries.get(found)

    def _access(self, name: str, entry: Entry, gen: int) -> Any:
        obj = entry.obj if entry.loaded else self._load(entry)
        if self._on_access is not None:
            self._on_access(entry)
        elif normalise(name) not in self._deprecated and not _auto_refresh():
            with self._lock:
                if self._gen == gen:
                    self._fast[name] = obj
        return obj

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
            if _discovery.takes_register_fn(obj):
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

    def _unknown(self, name: str) -> UnknownComponentError:
        return UnknownComponentError(
            name, self.label,
            searched=self.searched_places(),
            close_matches=_search.close_matches(name, self._all_names()),
            failures=[str(f) for f in self._failures.values()],
        )

    def searched_places(self) -> builtins.list[str]:
        places = [f"{len(self._entries)} registered {self.kind}"]
        if self.entry_point_group:
            places.append(f"entry-point group {self.entry_point_group!r} on sys.path")
        roots = _plugindirs.STATE.report.roots
        places.append(f"plugin folders {roots}" if roots else "no plugin folders (set CODEX_ML_PLUGIN_PATH)")
        return places

    def _all_names(self) -> builtins.list[str]:
        names = [e.name for e in self._entries.values()]
        return names + [a for e in self._entries.values() for a in e.aliases]

    # ------------------------------------------------------------- listing
    def list(self, *, tags: Any = None, resolve: bool = False, include_deprecated: bool = False) -> builtins.list[str]:
        """Sorted names; ``resolve=True`` runs hook plugins first."""
        self._ensure_scanned()
        if resolve:
            self._run_hooks()
        wanted = set(_tags(tags, "list()"))
        names = [e.name for e in list(self._entries.values()) if wanted <= set(e.metadata.get("tags") or ())]
        if include_deprecated:
            names += [v[0] for v in self._deprecated.values()]
        return sorted(names, key=lambda n: (normalise(n), n))

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())

    def values(self) -> builtins.list[T]:
        """Every component, loaded; broken plugins are skipped (they were warned)."""
        return [obj for _, obj in self.items()]

    def items(self) -> builtins.list[tuple[str, T]]:
        out = []
        for name in self.list():
            try:
                out.append((name, self[name]))
            except RegistryLoadError:
                continue
        return out

    def filter(self, predicate: Callable[[T], bool]) -> dict[str, T]:
        """``{name: obj}`` of the components for which ``predicate(obj)`` is true."""
        return {name: obj for name, obj in self.items() if predicate(obj)}

    def search(self, query: str, *, limit: int | None = None) -> builtins.list[str]:
        """Names ranked exact > prefix > substring > fuzzy over name, aliases, description, tags."""
        _require_str(query, f"{self.label} search query")
        self._ensure_scanned()
        return _search.rank(query, list(self._entries.values()), limit)

    def metadata(self, name: str) -> dict[str, Any]:
        entry = self._find(name)
        if entry is None:
            raise self._unknown(name)
        meta = dict(entry.metadata)
        if not meta.get("description") and entry.loaded:
            doc = (getattr(entry.obj, "__doc__", None) or "").strip()
            meta["description"] = doc.splitlines()[0] if doc else None
        failure = self._failures.get(normalise(entry.name))
        meta.update(
            name=entry.name, kind=self.kind, aliases=entry.aliases, factory=entry.factory,
            loaded=entry.loaded, target=entry.target or target_of(entry.obj),
            provenance=entry.provenance.as_dict(), error=failure.cause if failure else None,
        )
        return meta

    def entry(self, name: str) -> Entry:
        """The raw entry (provenance, target, load state) without loading it."""
        entry = self._find(name)
        if entry is None:
            raise self._unknown(name)
        return entry

    # ----------------------------------------------------------- discovery
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
        self._seen_index = _epindex.current()
        if not self.entry_point_group:
            return
        policy = _discovery.rules()  # read the environment once per scan, not per record
        with self._lock:
            for rec in _epindex.records(self.entry_point_group):
                self._add_record(rec, policy)

    def _add_record(self, rec: _epindex.EPRecord, policy: tuple[builtins.list[str], builtins.list[str]]) -> None:
        why = _discovery.allowed(rec, policy)
        if why:
            self._report.disabled.append(f"{rec.group}:{rec.name} ({rec.distribution}): {why}")
            return
        if _discovery.is_hook_target(rec.value):
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
            scratch: Registry[T] = Registry(self.kind, entry_point_group=self.entry_point_group,
                                            factory=self.default_factory, label=self.label, publish=False)
            scratch._entries = {k: e for k, e in self._entries.items() if not self._from_own_group(e)}
            scratch._aliases = {a: k for a, k in self._aliases.items() if k in scratch._entries}
            scratch._scan_once.run(scratch._scan_entry_points)
            # Never publish an empty table; the generation moves before and after
            # the swap so a lookup that straddles it looks again.
            self._gen += 1
            for attr in ("_entries", "_aliases", "_hooks", "_failures", "_report", "_scan_once", "_seen_index"):
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

    def __init__(self, registry: Registry[T]) -> None:
        self.registry = registry
        self.state: dict[str, Any] = {}

    def __enter__(self) -> Registry[T]:
        reg = self.registry
        with reg._lock:
            self.state = {k: _copy_state(v) for k, v in reg.__dict__.items()}
        return reg

    def __exit__(self, *exc: object) -> None:
        reg = self.registry
        with reg._lock:
            reg.__dict__.update(self.state)
            reg._invalidate()


def _require_str(name: object, what: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a str, got {type(name).__name__}: {name!r}")


def _tags(tags: Any, owner: str) -> tuple[str, ...]:
    """Tags as a tuple of str: one string is one tag, not its characters."""
    if tags is None:
        return ()
    if isinstance(tags, str):
        return (tags,)
    try:
        items = tuple(tags)
    except TypeError:
        raise TypeError(f"tags of {owner!r} must be a string or a sequence of strings, "
                        f"got {type(tags).__name__}: {tags!r}") from None
    bad = [t for t in items if not isinstance(t, str)]
    if bad:
        raise TypeError(f"tags of {owner!r} must be strings; got {bad[0]!r} ({type(bad[0]).__name__})")
    return items


def _copy_state(value: Any) -> Any:
    """A copy deep enough that changes made inside ``snapshot()`` do not leak out."""
    if isinstance(value, dict):
        return {k: v.copy() if isinstance(v, Entry) else v for k, v in value.items()}
    if isinstance(value, (list, set)):
        return type(value)(value)
    if isinstance(value, DiscoveryReport):
        return value.copy()
    return value


_publish_hook: list[Callable[[Registry[Any]], None]] = []


def _publish(registry: Registry[Any]) -> None:
    """Hand a new registry to the registry of registries (set up by the kinds module)."""
    for hook in _publish_hook:
        hook(registry)
