"""A registry's view of its entry-point group: names as plain strings, Entries only on demand.

``GroupView`` applies the allow/deny rules of this process on top of the
group's ``Listing`` (``_table``) and maps a key back to its record, which is
all a registry needs to list, count and test membership without building an
``Entry`` per name. A first listing before any lookup needs no view at all
(``Registry.list``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._epindex import EPRecord, Index
    from ._table import Listing


class GroupView:
    """What a registry lists from its group, under this process's allow/deny rules."""

    __slots__ = ("disabled", "group", "hidden", "index", "listing")

    def __init__(self, index: Index, group: str, allowed: object) -> None:
        self.index, self.group = index, group
        self.listing = index.listing(group)
        self.hidden: frozenset[str] = frozenset()  # keys the rules turn off
        self.disabled: list[str] = []
        if allowed is not None:
            self._apply_rules(allowed)

    def _apply_rules(self, allowed: object) -> None:
        hidden = set()
        for key, position in zip(self.listing.keys, range(len(self.listing.names))):
            rec = self._record(self.listing.row(position))
            why = allowed(rec)  # type: ignore[operator]
            if why:
                hidden.add(key)
                self.disabled.append(f"{rec.group}:{rec.name} ({rec.distribution}): {why}")
        self.hidden = frozenset(hidden)

    def __contains__(self, key: str) -> bool:
        return self.listing.position(key) is not None and key not in self.hidden

    def among(self, keys: Iterable[str]) -> list[str]:
        """The keys of ``keys`` this view lists, in their order (a refresh checks every registered key)."""
        listed, hidden = self.listing.by_key(), self.hidden
        return [k for k in keys if k in listed and k not in hidden]

    def _synced(self) -> Listing:
        """The index's listing of the group now: a rescan through another view moves its rows."""
        listing = self.index.listing(self.group)
        if listing is not self.listing:
            self.listing = listing
        return listing

    def record(self, key: str) -> EPRecord | None:
        """The entry point listed under ``key``, checked fresh first; None if a rescan found it gone."""
        position = self._synced().position(key)
        if position is None:
            return None
        row = self.index.rows(self.group)[self.listing.row(position)]
        if not self.index.fresh(row[2]):  # its distribution changed in place: read sys.path again
            self.index.refreshed()
            self.listing = self.index.listing(self.group)
            position = self.listing.position(key)
            if position is None:
                return None
            row = self.index.rows(self.group)[self.listing.row(position)]
        return self.index.record(self.group, row)

    def _record(self, row: int) -> EPRecord:
        return self.index.record(self.group, self.index.rows(self.group)[row])

    def set_apart(self) -> list[EPRecord]:
        """Hooks, names our rules reject and colliding rows: a registry looks at each one."""
        lst = self._synced()
        return [self._record(r) for r in sorted(lst.hooks + lst.invalid + lst.dupes)]

    def names(self, taken: set[str]) -> list[str]:
        """Listed names whose keys the registry has not materialised (or dropped)."""
        lst = self.listing
        if not taken and not self.hidden:
            return lst.names
        skip, keys = taken | self.hidden, lst.keys  # keys first: reading them may complete the names
        return [n for n, k in zip(lst.names, keys) if k not in skip]

    def pairs(self, taken: set[str]) -> list[tuple[str, str]]:
        skip, keys = taken | self.hidden, self.listing.keys
        return [(k, n) for n, k in zip(self.listing.names, keys) if k not in skip]
