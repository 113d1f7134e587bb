"""Who keeps a name when two registrations clash (SPEC sections 2 and 6).

* the same object again: nothing happens (re-imports are safe);
* ``override=True``, or a higher-ranked source (in-process and built-in
  outrank plugins): the newcomer replaces, and the shadowing is recorded;
* a lower-ranked source: ignored, and the shadowing is recorded;
* the same plugin file imported again: replaces;
* two plugins: the first keeps the name, the collision is recorded;
* two in-process registrations: ``RegistryCollisionError``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs milliseconds to import

from ._entry import PLUGIN_FILE
from ._errors import RegistryCollisionError

if TYPE_CHECKING:
    from typing import Any

    from ._entry import Entry


class Decision:
    __slots__ = ("replace", "fill_lazy", "shadowed", "collision")

    def __init__(self, replace: bool, fill_lazy: bool = False, shadowed: str = "", collision: str = "") -> None:
        self.replace = replace
        self.fill_lazy = fill_lazy  # a lazy entry's own module registered its object
        self.shadowed = shadowed
        self.collision = collision


def decide(old: Entry, new: Entry, override: bool, label: str) -> Decision:
    if old.obj is new.obj and (old.loaded or old.target == new.target):
        return Decision(False)
    if not old.loaded and old.target and target_of(new.obj) == old.target.split("[")[0].strip():
        return Decision(False, fill_lazy=True)
    if override or new.provenance.rank > old.provenance.rank:
        note = "" if old.provenance == new.provenance else f"{new.name!r} from {new.provenance} replaces {old.provenance}"
        return Decision(True, shadowed=note)
    if new.provenance.rank < old.provenance.rank:
        return Decision(False, shadowed=(
            f"{new.name!r} from {new.provenance} ignored: {old.provenance} takes precedence "
            "(pass override=True to replace)"))
    if new.provenance.source == old.provenance.source == PLUGIN_FILE and new.provenance.file == old.provenance.file:
        return Decision(True)
    if new.provenance.is_plugin:
        return Decision(False, collision=f"{new.name!r}: {new.provenance} collides with {old.provenance}; keeping the first")
    raise RegistryCollisionError(new.name, label, str(old.provenance), str(new.provenance), old.name)


def target_of(obj: Any) -> str:
    module, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}:{qual}" if module and qual else ""
