"""The registry of registries: every ``Registry`` built with ``publish=True`` is listed here."""

from __future__ import annotations

from ._entry import BUILTIN, caller_location
from ._names import normalise
from ._registry import Registry

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import Any

registries: Registry[Registry[Any]] = Registry("registries", factory=False, label="registry", publish=False)


def publish(reg: Registry[Any]) -> None:
    """Every Registry() shows up in ``registries`` (the CLI and docs read it): one per kind.

    The same file making its kind's registry again (a plugin file imported
    again after an edit, a reloaded module) replaces it quietly. A registry of
    a kind that another place made is announced, never silent: one of a
    built-in kind stays private (a test's own "models" never hides the real
    one); one of a kind of your own replaces the older one.
    """
    existing = registries._table.entries.get(normalise(reg.kind))
    here = caller_location()
    if existing is not None and existing.provenance.file != here[0]:
        from ._errors import warn_once  # only when there is something to say

        builtin = existing.provenance.source == BUILTIN
        warn_once(_shadow_message(reg.kind, f"{here[0]}:{here[1]}", str(existing.provenance), builtin),
                  key=f"registry:{reg.kind}:{here[0]}:{here[1]}", stacklevel=3)
        if builtin:
            return
    registries.register(reg.kind, reg, override=True, description=f"registry of {reg.kind}",
                        entry_point_group=reg.entry_point_group)


def _shadow_message(kind: str, here: str, existing: str, builtin: bool) -> str:
    if builtin:
        return (f"Registry({kind!r}) made at {here} stays private: {kind!r} is a built-in kind, and the CLI, "
                f"the docs and plugins keep using codex_ml's registry ({existing}). Fix: register into that one "
                f"(registries[{kind!r}]), give yours another kind, or pass publish=False to say it is private.")
    return (f"Registry({kind!r}) made at {here} replaces the one made by {existing}: the CLI, the docs and "
            "plugins now see the new one, and what was registered in the old one is not listed. Fix: make the "
            "registry in one module and import it elsewhere, or give one of them another kind.")


def all_registries() -> list[Registry[Any]]:
    """Every published registry, sorted by kind; triggers no discovery."""
    from . import _kinds  # noqa: F401  (the built-in kinds are always among them)

    entries = sorted(registries._table.entries.values(), key=lambda e: e.name)
    return [e.obj for e in entries if isinstance(e.obj, Registry)]
