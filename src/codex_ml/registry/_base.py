"""``Registry``: one generic, thread-safe, lazy registry class for every kind."""

from __future__ import annotations

import _thread
import builtins
import warnings

from . import _context, _discovery, _epindex, _epview, _plugindirs, _search
from ._discovery import DiscoveryReport, PluginFailure
from ._entry import (
    BUILTIN,
    IN_PROCESS,
    NOT_LOADED,
    Entry,
    Provenance,
    object_provenance,
)
from ._errors import (
    RegistryCollisionError,
    RegistryLoadError,
    UnknownComponentError,
)
from ._generic import T
from ._interfaces import Interface
from ._lifecycle import Lifecycle, _auto_refresh
from ._names import normalise, validate_name
from ._once import Once
from ._precedence import Decision, decide, target_of

TYPE_CHECKING = False  # typing costs milliseconds to import: only the checker sees it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from typing import Any

_STANDARD_META = ("version", "author", "description", "tags")


class Registry(Lifecycle[T]):
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
        self._ep_view: _epview.GroupView | None = None  # entry points listed without Entry objects
        self._ep_taken: set[str] = set()  # keys of the view that have an Entry (or were dropped)
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
            self._materialise(key)  # an entry point of that name decides precedence as an Entry
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
        if isinstance(name, str) and name.isascii():
            self._ensure_scanned()
            key, view = normalise(name), self._ep_view
            if view is not None and key in view and key not in self._ep_taken and key not in self._deprecated:
                return True  # listed by the index: no Entry needed to answer
        return isinstance(name, str) and self._find(name) is not None

    def _key(self, name: str) -> str | None:
        if not name.isascii():  # names are ASCII; '\u212a'.lower() must not find 'k'
            return None
        key = normalise(name)
        if key in self._entries:
            return key
        if key not in self._aliases and self._ep_view is not None:
            self._materialise(key)  # looked up: build its Entry now
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
        entries, view, taken = self._table()
        names = [e.name for e in entries] + (view.names(taken) if view is not None else [])
        return names + [a for e in entries for a in e.aliases]

    def _table(self) -> tuple[builtins.list[Entry], _epview.GroupView | None, set[str]]:
        """Entries and the entry points not yet built, as one picture (a refresh or lookup may be changing them)."""
        with self._lock:
            return builtins.list(self._entries.values()), self._ep_view, set(self._ep_taken)

    # ------------------------------------------------------------- listing
    def list(self, *, tags: Any = None, resolve: bool = False, include_deprecated: bool = False) -> builtins.list[str]:
        """Sorted names; ``resolve=True`` runs hook plugins first."""
        self._ensure_scanned()
        if resolve:
            self._run_hooks()
        wanted = set(_tags(tags, "list()"))
        entries, view, taken = self._table()
        names = [e.name for e in entries if wanted <= set(e.metadata.get("tags") or ())]
        if include_deprecated:
            names += [v[0] for v in self._deprecated.values()]
        listed = view.names(taken) if view is not None and not wanted else []  # sorted; entry points carry no tags
        if not names:
            return builtins.list(listed)
        pairs = [(normalise(n), n) for n in names]
        if listed and view is not None:
            pairs += view.pairs(taken)
        return [n for _, n in sorted(pairs)]

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
        entries, view, taken = self._table()
        bare = [_epview.Bare((n,)) for n in (view.names(taken) if view is not None else [])]
        return _search.rank(query, [*entries, *bare], limit)  # type: ignore[list-item]

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


_publish_hook: list[Callable[[Registry[Any]], None]] = []


def _publish(registry: Registry[Any]) -> None:
    """Hand a new registry to the registry of registries (set up by the kinds module)."""
    for hook in _publish_hook:
        hook(registry)
