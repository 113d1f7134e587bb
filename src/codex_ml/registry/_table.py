"""The table a registry reads: entries by key, aliases, deprecated names.

A registry swaps its whole table in one assignment when discovery rebuilds
it, so a reader that took ``registry._table`` once sees the old table or the
new one, never one half rebuilt (docs/index.md, "Architecture").

The entry points of the registry's group are not entries until a name is
looked up: ``view`` (a ``GroupView`` of the group's ``Listing``) lists them
as plain strings, and ``taken`` holds the keys of the view that have an
Entry now (or were dropped), so a listing of thousands of installed names
builds no object per name (``_epview``).
"""

from __future__ import annotations

from . import LazyModule

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from . import _names
    from ._entry import Entry
    from ._epview import GroupView
else:
    _names = LazyModule("_names", globals())  # keys are normalised by lookups, not listings


class Table:
    """``entries`` (key -> Entry), ``aliases`` (key -> entry key), ``deprecated`` (key -> (old, new, note))."""

    __slots__ = ("aliases", "deprecated", "entries", "taken", "view")

    def __init__(self, entries: dict[str, Entry] | None = None, aliases: dict[str, str] | None = None,
                 deprecated: dict[str, tuple[str, str, str]] | None = None) -> None:
        self.entries: dict[str, Entry] = entries if entries is not None else {}
        self.aliases: dict[str, str] = aliases if aliases is not None else {}
        self.deprecated: dict[str, tuple[str, str, str]] = deprecated if deprecated is not None else {}
        self.view: GroupView | None = None  # entry points listed without Entry objects
        self.taken: set[str] = set()  # keys of the view that have an Entry (or were dropped)

    def copy(self, keep: Callable[[Entry], bool] | None = None) -> Table:
        """A new table with the same entries (those ``keep`` accepts), their aliases and the view."""
        entries = dict(self.entries) if keep is None else {k: e for k, e in self.entries.items() if keep(e)}
        aliases = {a: k for a, k in self.aliases.items() if k in entries}
        table = Table(entries, aliases, dict(self.deprecated))
        table.view, table.taken = self.view, set(self.taken)  # a rescan replaces them; a drop keeps them
        return table

    def deep_copy(self) -> Table:
        """Entries copied too (a snapshot that later changes cannot reach)."""
        table = Table({k: e.copy() for k, e in self.entries.items()}, dict(self.aliases), dict(self.deprecated))
        table.view, table.taken = self.view, set(self.taken)
        return table

    def pristine(self) -> bool:
        """Nothing registered, aliased or deprecated."""
        return not (self.entries or self.aliases or self.deprecated)

    def pending(self, key: str) -> bool:
        """True when the view lists ``key`` and no Entry was built for it yet."""
        view = self.view
        return view is not None and key not in self.taken and key in view

    def listed(self) -> list[str]:
        """The view's names that have no Entry yet (sorted as ``Registry.list()`` sorts)."""
        view = self.view
        return view.names(self.taken) if view is not None else []

    def key(self, name: str) -> str | None:
        """The entry key ``name`` resolves to (its own, or the one it is an alias of)."""
        stripped = name.strip()  # as registration strips it: '0\xa0' finds '0'
        if not stripped.isascii():  # names are ASCII; '\u212a'.lower() must not find 'k'
            return None
        key = _names.normalise(stripped)
        if key in self.entries:
            return key
        return self.aliases.get(key)

    def find(self, name: str) -> Entry | None:
        key = self.key(name)
        return None if key is None else self.entries.get(key)

    def remove(self, key: str) -> Entry:
        entry = self.entries.pop(key)
        for alias in [a for a, k in self.aliases.items() if k == key]:
            del self.aliases[alias]
        return entry

    def picture(self) -> Picture:
        """What a listing reads, copied as one (the registry's lock is held)."""
        deprecated = [(key, v[0]) for key, v in self.deprecated.items()]
        return Picture(list(self.entries.items()), deprecated, self.view, set(self.taken))

    def names(self) -> list[str]:
        """Display names and aliases of every entry (for "did you mean")."""
        entries = list(self.entries.values())
        return [e.name for e in entries] + self.listed() + [a for e in entries for a in e.aliases]


class Picture:
    """(key, entry) pairs, deprecated (key, name) pairs and the entry points not yet built, at one moment.

    The keys are the table's own (each name normalised once, when it was
    registered), so a listing sorts without normalising every name again.
    """

    __slots__ = ("deprecated", "items", "taken", "view")

    def __init__(self, items: list[tuple[str, Entry]], deprecated: list[tuple[str, str]],
                 view: GroupView | None, taken: set[str]) -> None:
        self.items, self.deprecated, self.view, self.taken = items, deprecated, view, taken

    def names(self, wanted: set[str], include_deprecated: bool) -> list[str]:
        """Sorted by (key, name); entry points carry no tags, so a tag filter lists entries only."""
        pairs = [(k, e.name) for k, e in self.items if not wanted or wanted <= set(e.metadata.get("tags") or ())]
        if include_deprecated:
            pairs += self.deprecated
        view = self.view if not wanted else None
        if not pairs:
            return list(view.names(self.taken)) if view is not None else []  # the view is sorted already
        if view is not None:
            pairs += view.pairs(self.taken)
        pairs.sort()
        return [n for _, n in pairs]

    def searchable(self) -> list[Any]:
        """Entries, and each entry point not yet built as a bare name (no Entry is built to search)."""
        from ._search import Bare

        listed = self.view.names(self.taken) if self.view is not None else []
        return [*(e for _, e in self.items), *(Bare((n,)) for n in listed)]


def hook_group(group: str) -> bool:
    """Only our own groups (``codex_ml.*``) have hooks; elsewhere a module target is the component itself."""
    return group.startswith("codex_ml.")


class Listing:
    """One group as a registry lists it: sorted names and keys, their row numbers, and rows set apart.

    The names a registry lists are the valid ones that are not hooks, first of
    each normalised key on ``sys.path``, sorted as ``Registry.list()`` sorts;
    hooks, names our rules reject and later rows that collide are set apart
    (each one needs a look). The index keeps one per group (``_epscan``
    derives it) and, for the ``codex_ml*`` groups, stores it in its cache.

    From the cache, only the names (and the few rows set apart) are read at
    first; keys and row numbers are another block, read by ``more()`` when a
    name is looked up or tested, which returns the complete listing.
    """

    __slots__ = ("_by_key", "_keys", "_more", "_rows", "dupes", "hooks", "invalid", "names")

    def __init__(self, names: list[str], keys: list[str] | None, rows: list[str] | None, hooks: tuple[int, ...],
                 invalid: tuple[int, ...], dupes: tuple[int, ...], more: Callable[[], Listing] | None = None) -> None:
        self.names = names
        self._keys, self._rows, self._more = keys, rows, more
        self.hooks, self.invalid, self.dupes = hooks, invalid, dupes
        self._by_key: dict[str, int] | None = None

    @property
    def keys(self) -> list[str]:
        if self._keys is None:
            self._complete()
        return self._keys  # type: ignore[return-value]

    def _complete(self) -> None:
        # Lookups test names against a view without the registry's lock: the first two threads
        # to need the keys must not both read them (the second would find nothing left to read),
        # and the read may rescan the index, so it holds the index's own lock.
        from ._epindex import _lock

        with _lock:
            if self._keys is not None and self._rows is not None:
                return  # another thread completed it while this one waited
            if self._more is None:
                raise ValueError("a listing without keys and nothing to read them from")
            full = self._more()  # forgotten only once it returned: Ctrl-C here leaves it to try again
            self._more = None
            self.hooks, self.invalid, self.dupes = full.hooks, full.invalid, full.dupes
            self.names, self._rows, self._keys = full.names, full._rows, full._keys  # keys last: see keys

    @classmethod
    def decode(cls, text: str, more: Callable[[], Listing]) -> Listing:
        """The names block (checksummed); keys and rows wait for ``more()``."""
        parts = text.split("\n", 3)
        if len(parts) != 4 or not parts[3].endswith("\n") or "\n" in parts[3][:-1]:
            raise ValueError("damaged listing")
        hooks, invalid, dupes = (tuple(map(int, line.split("\t"))) if line else () for line in parts[:3])
        return cls(parts[3][:-1].split("\t") if len(parts[3]) > 1 else [], None, None, hooks, invalid, dupes, more)

    def with_columns(self, text: str) -> Listing:
        """This listing completed by its keys-and-rows block; ValueError if the block does not fit."""
        lines = text.split("\n")
        count = len(self.names)
        keys = lines[0].split("\t") if count else []
        rows = lines[1].split("\t") if count and len(lines) > 1 else []
        if len(lines) != 3 or lines[2] or len(keys) != count or len(rows) != count:
            raise ValueError("damaged listing")
        return Listing(self.names, keys, rows, self.hooks, self.invalid, self.dupes)

    def position(self, key: str) -> int | None:
        by_key = self._by_key  # read directly: membership tests of every lookup come here
        return (by_key if by_key is not None else self.by_key()).get(key)

    def by_key(self) -> dict[str, int]:
        """Each listed key's position."""
        if self._by_key is None:
            self._by_key = dict(zip(self.keys, range(len(self.keys))))
        return self._by_key

    @property
    def rows(self) -> list[str]:
        """Each listed name's row number in the group (as text, as stored)."""
        if self._rows is None:
            self._complete()
        return self._rows  # type: ignore[return-value]

    def row(self, position: int) -> int:
        return int(self.rows[position])
