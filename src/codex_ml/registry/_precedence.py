"""Who keeps a name when two registrations clash (docs/guides/registries.md, "Precedence").

An alias counts as a name: a newcomer's name that is another entry's alias,
and a newcomer's alias that is another entry's name or alias, follow the
same rules as two equal names.

* the same object again: nothing happens (re-imports are safe);
* the same plugin file imported again, or the same entry point registering
  again (``init_*_plugins(force=True)`` runs its hook again): replaces;
* ``override=True``, or a higher-ranked source (in-process and built-in
  outrank plugins): the newcomer takes the name, and the shadowing is recorded;
* a lower-ranked source: ignored, and the shadowing is recorded;
* two plugins (or anything found by entry-point discovery): the first keeps
  the name, the collision is recorded;
* two in-process registrations: ``RegistryCollisionError``, and nothing changes.
"""

from __future__ import annotations

from ._entry import PLUGIN_FILE
from ._errors import RegistryCollisionError
from ._names import normalise
from ._report import Collision

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import Any

    from ._entry import Entry
    from ._table import Table


class Decision:
    __slots__ = ("replace", "fill_lazy", "shadowed", "collision")

    def __init__(self, replace: bool, fill_lazy: bool = False, shadowed: str = "",
                 collision: Collision | None = None) -> None:
        self.replace = replace
        self.fill_lazy = fill_lazy  # a lazy entry's own module registered its object
        self.shadowed = shadowed
        self.collision = collision


class Outcome:
    """What placing one entry recorded: shadowings and collisions (for the report).

    ``warn``: the shadowings a plugin took part in (warned once, like a collision).
    """

    __slots__ = ("shadowed", "collisions", "warn")

    def __init__(self) -> None:
        self.shadowed: list[str] = []
        self.collisions: list[Collision] = []
        self.warn: list[str] = []

    def note(self, decision: Decision, plugin: bool = False) -> None:
        if decision.shadowed:
            self.shadowed.append(decision.shadowed)
            if plugin:
                self.warn.append(decision.shadowed)
        if decision.collision:
            self.collisions.append(decision.collision)


def decide(old: Entry, new: Entry, override: bool, label: str, name: str = "") -> Decision:
    name = name or new.name
    same_file = new.provenance.source == old.provenance.source == PLUGIN_FILE \
        and new.provenance.file == old.provenance.file
    if same_file or _same_entry_point(old, new):
        return Decision(True)  # a plugin never collides with its own earlier registration
    if old.obj is new.obj and (old.loaded or old.target == new.target):
        return Decision(False)
    if not old.loaded and old.target and target_of(new.obj) == old.target.split("[")[0].strip():
        return Decision(False, fill_lazy=True)
    if override or new.provenance.rank > old.provenance.rank:
        note = "" if old.provenance == new.provenance else f"{name!r} from {new.provenance} replaces {old.provenance}"
        return Decision(True, shadowed=note)
    if new.provenance.rank < old.provenance.rank:
        return Decision(False, shadowed=(
            f"{name!r} from {new.provenance} ignored: {old.provenance} takes precedence "
            "(pass override=True to replace)"))
    if new.provenance.is_plugin or new.provenance.entry_point:
        return Decision(False, collision=Collision(name, str(old.provenance), str(new.provenance)))
    raise RegistryCollisionError(name, label, str(old.provenance), _describe_new(old, new, name), old.name)


def _same_entry_point(old: Entry, new: Entry) -> bool:
    """Registered again by the entry point that registered ``old`` (not a lazy entry waiting for its import)."""
    ep = new.provenance.entry_point
    return bool(ep) and ep == old.provenance.entry_point and (old.loaded or not old.target)


def _describe_new(old: Entry, new: Entry, name: str) -> str:
    if normalise(name) == normalise(new.name):
        return str(new.provenance)
    return f"an alias of {new.name!r} ({new.provenance})"


def place(table: Table, new: Entry, override: bool, label: str) -> Outcome:
    """Put ``new`` into ``table`` by the rules above; raise before changing anything."""
    key = normalise(new.name)
    plans: list[tuple[str, str | None, Decision | None]] = []
    for name in (new.name, *new.aliases):
        akey = normalise(name)
        holder = akey if akey in table.entries else table.aliases.get(akey)
        if holder is None or (akey != key and holder == key) or any(p[0] == akey for p in plans):
            plans.append((akey, None, None))
            continue
        plans.append((akey, holder, decide(table.entries[holder], new, override, label, name)))
    outcome = Outcome()
    first = plans[0][2]
    if first is not None and not first.replace:
        if first.fill_lazy:
            table.entries[str(plans[0][1])].obj = new.obj
        outcome.note(first, _plugin_involved(table, plans[0][1], new))
        return outcome
    for akey, holder, decision in plans:
        if decision is not None:
            outcome.note(decision, _plugin_involved(table, holder, new))
            if not decision.replace:
                continue  # a clash on an alias: the newcomer goes without that alias
            _release(table, akey, holder, key)
        if akey == key:
            table.entries[key] = new
        else:
            table.aliases[akey] = key
    return outcome


def _plugin_involved(table: Table, holder: str | None, new: Entry) -> bool:
    old = table.entries.get(holder) if holder is not None else None
    return new.provenance.is_plugin or (old is not None and old.provenance.is_plugin)


def _release(table: Table, akey: str, holder: str | None, key: str) -> None:
    """Free ``akey`` for the newcomer: it was an entry's name or an alias."""
    if holder == akey:
        if akey != key:  # another entry's own name becomes the newcomer's alias: that entry is shadowed
            table.remove(akey)
        else:  # the newcomer replaces the entry of its own name: the old aliases go with it
            for alias in [a for a, k in table.aliases.items() if k == akey]:
                del table.aliases[alias]
    else:
        table.aliases.pop(akey, None)


def target_of(obj: Any) -> str:
    module, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}:{qual}" if module and qual else ""
