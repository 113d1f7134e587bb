"""The registry of registries: every ``Registry`` built with ``publish=True`` is listed here."""

from __future__ import annotations

from ._entry import BUILTIN
from ._names import normalise
from ._registry import Registry

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import Any

registries: Registry[Registry[Any]] = Registry("registries", factory=False, label="registry", publish=False)


def publish(reg: Registry[Any]) -> None:
    """Every Registry() shows up in ``registries`` (the CLI and docs read it).

    A registry built for a test under a built-in kind's name stays private, so
    it can never hide the real one.
    """
    existing = registries._table.entries.get(normalise(reg.kind))
    if existing is not None and existing.provenance.source == BUILTIN:
        return
    registries.register(reg.kind, reg, override=True, description=f"registry of {reg.kind}",
                        entry_point_group=reg.entry_point_group)


def all_registries() -> list[Registry[Any]]:
    """Every published registry, sorted by kind; triggers no discovery."""
    from . import _kinds  # noqa: F401  (the built-in kinds are always among them)

    entries = sorted(registries._table.entries.values(), key=lambda e: e.name)
    return [e.obj for e in entries if isinstance(e.obj, Registry)]
