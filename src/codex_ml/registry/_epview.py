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
    from collections.abc import Sequence
    from typing import ClassVar

    from ._epindex import EPRecord, Index

def hook_group(group: str) -> bool:
    """Only our own groups (``codex_ml.*``) have hooks; elsewhere a module target is the component itself."""
    return group.startswith("codex_ml.")


class Listing:
    """One group, derived: sorted names and keys, their row numbers, and rows set apart."""

    __slots__ = ("_by_key", "_keys", "_rows", "dupes", "hooks", "invalid", "names")

    def __init__(self, names: list[str], keys: list[str] | str, rows: list[str] | str, hooks: tuple[int, ...],
                 invalid: tuple[int, ...], dupes: tuple[int, ...]) -> None:
        self.names = names
        self._keys, self._rows = keys, rows  # a column still as text is split on first use
        self.hooks, self.invalid, self.dupes = hooks, invalid, dupes
        self._by_key: dict[str, int] | None = None

    @property
    def keys(self) -> list[str]:
        if isinstance(self._keys, str):
            self._keys = self._keys.split("\t") if self._keys else []
        return self._keys

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

    def encode(self) -> str:
        def ints(xs: tuple[int, ...]) -> str:
            return "\t".join(map(str, xs))

        rows = self._rows if isinstance(self._rows, str) else "\t".join(self._rows)
        return "\n".join(["\t".join(self.names), "\t".join(self.keys), rows,
                          ints(self.hooks), ints(self.invalid), ints(self.dupes)]) + "\n"

    @classmethod
    def decode(cls, text: str) -> Listing:
        """Only the names are split now: keys and rows wait for a lookup (checksummed block)."""
        lines = text.split("\n")
        if len(lines) != 7 or len({line.count("\t") for line in lines[:3]}) != 1:
            raise ValueError("damaged listing")
        ints = [tuple(map(int, line.split("\t"))) if line else () for line in lines[3:6]]
        return cls(lines[0].split("\t") if lines[0] else [], lines[1], lines[2], *ints)

    def position(self, key: str) -> int | None:
        if self._by_key is None:
            self._by_key = dict(zip(self.keys, range(len(self.keys))))
        return self._by_key.get(key)

    def row(self, position: int) -> int:
        if isinstance(self._rows, str):
            self._rows = self._rows.split("\t") if self._rows else []
        return int(self._rows[position])


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
        skip = taken | self.hidden
        return [n for n, k in zip(lst.names, lst.keys) if k not in skip]

    def pairs(self, taken: set[str]) -> list[tuple[str, str]]:
        skip = taken | self.hidden
        return [(k, n) for n, k in zip(self.listing.names, self.listing.keys) if k not in skip]


class Bare(tuple):  # type: ignore[type-arg]
    """An entry point seen only by name, for ``search()``: no Entry is built for it."""

    __slots__ = ()
    aliases: tuple[str, ...] = ()
    metadata: ClassVar[dict[str, object]] = {}  # read only: no description, no tags

    @property
    def name(self) -> str:
        return str(self[0])
