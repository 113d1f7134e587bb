"""The table a registry reads: entries by key, aliases, deprecated names.

A registry swaps its whole table in one assignment when discovery rebuilds
it, so a reader that took ``registry._table`` once sees the old table or the
new one, never one half rebuilt (docs/index.md, "Architecture").

The entry points of the registry's group are not entries until a name is
looked up: ``view`` lists them as plain strings (``_epview``), and ``taken``
holds the keys of the view that have an Entry now (or were dropped), so a
listing of thousands of installed names builds no object per name.
"""

from __future__ import annotations

from ._names import normalise

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._entry import Entry
    from ._epview import GroupView


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
        key = normalise(stripped)
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
        deprecated = [v[0] for v in self.deprecated.values()]
        return Picture(list(self.entries.values()), deprecated, self.view, set(self.taken))

    def names(self) -> list[str]:
        """Display names and aliases of every entry (for "did you mean")."""
        entries = list(self.entries.values())
        return [e.name for e in entries] + self.listed() + [a for e in entries for a in e.aliases]


class Picture:
    """Entries, deprecated names and the entry points not yet built, at one moment."""

    __slots__ = ("deprecated", "entries", "taken", "view")

    def __init__(self, entries: list[Entry], deprecated: list[str], view: GroupView | None, taken: set[str]) -> None:
        self.entries, self.deprecated, self.view, self.taken = entries, deprecated, view, taken

    def names(self, wanted: set[str], include_deprecated: bool) -> list[str]:
        """Sorted by (key, name); entry points carry no tags, so a tag filter lists entries only."""
        names = [e.name for e in self.entries if wanted <= set(e.metadata.get("tags") or ())]
        if include_deprecated:
            names += self.deprecated
        view = self.view if not wanted else None
        if not names:
            return list(view.names(self.taken)) if view is not None else []  # the view is sorted already
        pairs = [(normalise(n), n) for n in names]
        if view is not None:
            pairs += view.pairs(self.taken)
        return [n for _, n in sorted(pairs)]

    def searchable(self) -> list[Any]:
        """Entries, and each entry point not yet built as a bare name (no Entry is built to search)."""
        from ._epview import Bare

        listed = self.view.names(self.taken) if self.view is not None else []
        return [*self.entries, *(Bare((n,)) for n in listed)]
