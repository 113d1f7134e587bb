"""A registry's view of its entry-point group: names as plain strings, Entries only on demand.

``Listing`` is what the index keeps per group, ready to use: the names a
registry lists (valid, not hooks, first of each normalised key on
``sys.path``), sorted as ``Registry.list()`` sorts, with their keys, plus the
rows that need a look before listing (hooks, names our rules reject, later
rows that collide). For the ``codex_ml*`` groups it is stored in the index
cache, so a warm listing is one ``split`` per column.

``GroupView`` applies the allow/deny rules of this process on top and maps a
key back to its record, which is all a registry needs to list, count and
test membership without building an ``Entry`` per name.
"""

from __future__ import annotations

from ._names import normalise, validate_name

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import ClassVar

    from ._epindex import EPRecord, Index

def hook_group(group: str) -> bool:
    """Only our own groups (``codex_ml.*``) have hooks; elsewhere a module target is the component itself."""
    return group.startswith("codex_ml.")


class Listing:
    """One group, derived: sorted names and keys, their row numbers, and rows set apart.

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
        more, self._more = self._more, None
        if more is None:
            raise ValueError("a listing without keys and nothing to read them from")
        full = more()
        self.names, self._keys, self._rows = full.names, full._keys, full._rows
        self.hooks, self.invalid, self.dupes = full.hooks, full.invalid, full.dupes

    @classmethod
    def derive(cls, rows: Sequence[tuple[str, str, int]], hooks_allowed: bool) -> Listing:
        from ._discovery import is_hook_target

        hooks, invalid, dupes, first = [], [], [], {}
        for number, (name, value, _) in enumerate(rows):
            if hooks_allowed and is_hook_target(value):
                hooks.append(number)
                continue
            try:
                shown = validate_name(name, "entry point")
            except ValueError:
                invalid.append(number)
                continue
            key = normalise(shown)
            if key in first:
                dupes.append(number)
            else:
                first[key] = (key, shown, number)
        ordered = sorted(first.values())
        return cls([n for _, n, _ in ordered], [k for k, _, _ in ordered], [str(i) for _, _, i in ordered],
                   tuple(hooks), tuple(invalid), tuple(dupes))

    def encode(self) -> tuple[str, str]:
        """Two blocks: what a listing reads (rows set apart, then names), and keys and row numbers."""
        def ints(xs: tuple[int, ...]) -> str:
            return "\t".join(map(str, xs))

        names = "\n".join([ints(self.hooks), ints(self.invalid), ints(self.dupes), "\t".join(self.names)]) + "\n"
        return names, "\t".join(self.keys) + "\n" + "\t".join(self._rows or ()) + "\n"

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
        if self._by_key is None:
            self._by_key = dict(zip(self.keys, range(len(self.keys))))
        return self._by_key.get(key)

    def row(self, position: int) -> int:
        if self._rows is None:
            self._complete()
        return int(self._rows[position])  # type: ignore[index]


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

    def record(self, key: str) -> EPRecord | None:
        """The entry point listed under ``key``, checked fresh first; None if a rescan found it gone."""
        position = self.listing.position(key)
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
        lst = self.listing
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


class Bare(tuple):  # type: ignore[type-arg]
    """An entry point seen only by name, for ``search()``: no Entry is built for it."""

    __slots__ = ()
    aliases: tuple[str, ...] = ()
    metadata: ClassVar[dict[str, object]] = {}  # read only: no description, no tags

    @property
    def name(self) -> str:
        return str(self[0])
