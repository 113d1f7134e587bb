"""The registry of registries: every ``Registry`` built with ``publish=True`` is listed here."""

from __future__ import annotations

from ._entry import caller_location
from ._errors import RegistryCollisionError
from ._names import normalise
from ._registry import Registry

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import Any

registries: Registry[Registry[Any]] = Registry("registries", factory=False, label="registry", publish=False)


def publish(reg: Registry[Any]) -> None:
    """Every Registry() shows up in ``registries`` (the CLI and docs read it): one per kind.

    The same file making its kind's registry again (a plugin file imported
    again after an edit, a reloaded module) replaces it; another place making a
    registry of a kind that exists is a RegistryCollisionError, since only one
    of the two could be the one the CLI and plugins see.
    """
    existing = registries._table.entries.get(normalise(reg.kind))
    if existing is not None and existing.provenance.file != caller_location()[0]:
        raise RegistryCollisionError(
            reg.kind, "registry", str(existing.provenance), _here(), existing.name,
            fix=(f"use that registry (registries[{reg.kind!r}]), give yours another kind, or pass "
                 "publish=False for a private registry (a test's, say) that the CLI does not list"))
    registries.register(reg.kind, reg, override=True, description=f"registry of {reg.kind}",
                        entry_point_group=reg.entry_point_group)


def _here() -> str:
    file, line = caller_location()
    return f"{file}:{line}" if file else "an unknown place"


def all_registries() -> list[Registry[Any]]:
    """Every published registry, sorted by kind; triggers no discovery."""
    from . import _kinds  # noqa: F401  (the built-in kinds are always among them)

    entries = sorted(registries._table.entries.values(), key=lambda e: e.name)
    return [e.obj for e in entries if isinstance(e.obj, Registry)]
