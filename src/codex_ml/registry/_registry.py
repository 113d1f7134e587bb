"""``Registry``: the one registry class.

A registry owns a ``Table`` (the hot path reads it and a cache of loaded
objects) and is given its collaborators: a ``Source`` (entry-point discovery
of its group), an ``Interface`` (methods its classes need) and ``Checks``
(what a kind checks at registration and access, e.g. tool schemas).
The class holds the public surface and the hot path (a dict of loaded
objects); a miss goes through ``_lookup``.
"""

from __future__ import annotations

import _thread
import builtins
import sys

from . import LazyModule, _settings
from ._table import Table

TYPE_CHECKING = False  # typing costs milliseconds to import: only the checker sees it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any, Generic, TypeVar

    from . import _lookup, _names, _registering, _world
    from ._entry import Entry
    from ._epindex import EPRecord
    from ._interfaces import Checks, Interface
    from ._report import DiscoveryReport, PluginFailure
    from ._settings import Settings
    from ._snapshot import Snapshot
    from ._source import Source

    T = TypeVar("T")
else:
    class Generic:  # ``Registry[Model] is Registry`` at run time, without importing typing
        def __class_getitem__(cls, item):
            return cls

    T = None
    # Registration helpers and errors are imported on first use: a listing never needs them.
    _registering = LazyModule("_registering", globals())
    _world = LazyModule("_world", globals())  # refresh, discover(), forget
    _names = LazyModule("_names", globals())  # names are checked and normalised by lookups, not listings
    _lookup = LazyModule("_lookup", globals())  # the slow path of a look-up


class Registry(Generic[T]):
    """Named components of one kind, from code, entry points and plugin files.

    >>> schedulers = Registry("schedulers", entry_point_group="codex_ml.schedulers")
    >>> @schedulers.register("cosine", tags=("lr",))
    ... def cosine(**kw): ...
    >>> schedulers.list()
    ['cosine']
    """

    def __init__(self, kind: str, *, entry_point_group: str | None = None, factory: bool = True,
                 interface: Interface | None = None, label: str | None = None, checks: Checks | None = None,
                 source: Source | None = None, settings: Callable[[], Settings] | None = None,
                 publish: bool = True) -> None:
        if not isinstance(kind, str) or not kind.strip():
            raise TypeError(f"a registry's kind must be a non-empty str (e.g. Registry('schedulers')), "
                            f"got {type(kind).__name__}: {kind!r}")
        self.kind = kind
        self.label = label or kind.rstrip("s").replace("_", " ")
        self.entry_point_group = entry_point_group
        self.default_factory = factory
        self.interface = interface
        self.checks = checks
        self._read_settings = settings or _settings.current
        self._source = source  # made at first use: a listing from a warm index may never need it
        self._lock = _thread.RLock()
        self._table = Table()
        self._fast: dict[str, Any] = {}  # hot path: exact name asked for -> loaded object, replaced on change
        if publish:
            from ._directory import publish as publish_to

            publish_to(self)

    @property
    def source(self) -> Source:
        """This registry's discovery: scan, hooks, loading, failures and report (made at first use)."""
        if self._source is not None:
            return self._source
        with self._lock:
            if self._source is None:
                from ._source import Source

                self._source = Source(self.kind, self.label, self.entry_point_group, self.default_factory,
                                      self._read_settings)
            return self._source

    def __repr__(self) -> str:
        group = f", entry_point_group={self.entry_point_group!r}" if self.entry_point_group else ""
        return f"Registry({self.kind!r}{group})"

    # ------------------------------------------------------------ register
    def register(self, name: Any, obj: Any = None, *, override: bool = False, factory: bool | None = None,
                 aliases: Sequence[str] = (), **metadata: Any) -> Any:
        """Register ``obj`` under ``name``; without ``obj``, return a decorator.

        ``register(obj)`` with one non-string argument registers ``obj`` under
        ``obj.id``, else ``obj.name``, else ``obj.__name__``, so a bare
        ``@register_model`` works too (docs/compatibility.md).
        """
        return _registering.register(self, name, obj, override, factory, aliases, metadata)

    def register_lazy(self, name: str, target: str, *, builtin: bool = False, override: bool = False,
                      factory: bool | None = None, aliases: Sequence[str] = (), **metadata: Any) -> None:
        """Register ``"module:attr"`` without importing it; ``builtin=True`` counts only for codex_ml's own code."""
        _registering.insert(self, _registering.lazy_entry(self, name, target, builtin, factory, aliases, metadata),
                            override)

    def deprecate(self, old: str, new: str, message: str | None = None) -> None:
        """Make ``old`` resolve to ``new`` with a DeprecationWarning; hide it from list()."""
        _registering.deprecate(self, old, new, message)

    def unregister(self, name: str) -> None:
        _registering.unregister(self, name)

    # ------------------------------------------------------------- look up
    def get(self, name: str, default: Any = None) -> Any:
        """The registered object (loaded if lazy), or ``default`` if absent."""
        try:
            return self._fast[name]
        except (KeyError, TypeError):
            return _lookup.get(self, name, default, self._fast)  # the dict before the table is read

    def __getitem__(self, name: str) -> T:
        try:
            return self._fast[name]  # type: ignore[no-any-return]
        except (KeyError, TypeError):
            fast = self._fast  # before the table is read (_lookup.access)
            entry = _lookup.find(self, name)
            if entry is None:
                raise _registering.unknown(self, name) from None
            return _lookup.access(self, name, entry, fast)  # type: ignore[no-any-return]

    def create(self, name: str, /, **kwargs: Any) -> Any:
        """Build the component: call the class or factory with ``kwargs``."""
        return _registering.build(self, name, kwargs)

    resolve_and_instantiate = create

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str) and name.isascii():
            _lookup.ensure_scanned(self)
            key, table = _names.normalise(name), self._table
            if table.pending(key) and key not in table.deprecated:
                return True  # listed by the index: no Entry needed to answer
        return isinstance(name, str) and _lookup.find(self, name) is not None

    # ------------------------------------------------------------- listing
    def list(self, *, tags: Any = None, resolve: bool = False, include_deprecated: bool = False) -> builtins.list[str]:
        """Sorted names; ``resolve=True`` runs hook plugins first."""
        if self._source is None and tags is None and not resolve:
            names = plain_listing(self)
            if names is not None:
                return names
        _lookup.ensure_scanned(self)
        if resolve:
            self.source.run_hooks(self)
        wanted = set(_registering.tags_of(tags, "list()")) if tags is not None else set()
        with self._lock:  # one picture: a lookup may be building an entry point's Entry
            picture = self._table.picture()
        return picture.names(wanted, include_deprecated)

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())

    def values(self) -> builtins.list[T]:
        """Every component, loaded; broken plugins are skipped (they were warned)."""
        return [obj for _, obj in self.items()]

    def items(self) -> builtins.list[tuple[str, T]]:
        return _registering.loaded_items(self)

    def filter(self, predicate: Callable[[T], bool]) -> dict[str, T]:
        """``{name: obj}`` of the components for which ``predicate(obj)`` is true."""
        return {name: obj for name, obj in self.items() if predicate(obj)}

    def search(self, query: str, *, limit: int | None = None) -> builtins.list[str]:
        """Names ranked exact > prefix > substring > fuzzy over name, aliases, description, tags."""
        _registering.require_str(query, f"{self.label} search query")
        _lookup.ensure_scanned(self)
        with self._lock:
            picture = self._table.picture()
        from . import _search

        return _search.rank(query, picture.searchable(), limit)

    def metadata(self, name: str) -> dict[str, Any]:
        entry = self.entry(name)
        return _registering.metadata_of(entry, self.kind, self.source.failures.get(_names.normalise(entry.name)))

    def entry(self, name: str) -> Entry:
        """The raw entry (provenance, target, load state) without loading it."""
        entry = _lookup.find(self, name)
        if entry is None:
            raise _registering.unknown(self, name)
        return entry

    # ----------------------------------------------------------- discovery
    def discover(self, force: bool = False, strict: bool | None = None) -> DiscoveryReport:
        """``init_<kind>_plugins()``: scan and run every hook once per process; ``strict=`` wins over the environment."""
        return _world.discover(self, force, strict)

    def report(self) -> DiscoveryReport:
        return self.source.result()

    def failures(self) -> builtins.list[PluginFailure]:
        return builtins.list(self.source.failures.values())

    def pending_hooks(self) -> builtins.list[EPRecord]:
        """Hook entry points of this kind's group that may load (they run on demand)."""
        _lookup.ensure_scanned(self)
        return builtins.list(self.source.hooks)

    def refresh(self) -> None:
        """Scan again, keeping what did not change; in-process registrations stay (docs/guides/registries.md)."""
        _world.refresh(self)

    def forget_discovery(self, keep: Callable[[Entry], bool] | None = None) -> None:
        """Drop what discovery found; the next access discovers again, as a first access does."""
        _world.forget(self, keep)

    def snapshot(self) -> Snapshot:
        """``with reg.snapshot(): ...`` restores this registry's whole state on exit."""
        from ._snapshot import Snapshot

        return Snapshot(self)


def plain_listing(reg: Registry[Any]) -> list[str] | None:
    """Before the first scan, with nothing registered and no allow/deny rule: the index's names
    (None when a row of the group needs a look, a hook, a rejected name, a collision: the scan decides)."""
    from . import _epindex

    settings = reg._read_settings()
    # Plugin files may register here: their pass runs first, unless no pass ran in this process
    # (its state was never loaded) and there is no folder to import from now.
    if f"{__package__}._dirstate" in sys.modules or _settings.plugin_roots(settings):
        from . import _dirstate

        _dirstate.ensure_discovered()
    if (reg._source is not None or not reg._table.pristine() or settings.allow or settings.disable
            or settings.auto_refresh):
        return None
    return _epindex.plain_names(reg.entry_point_group) if reg.entry_point_group else []
