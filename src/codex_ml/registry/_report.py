"""What discovery found: a plugin's failure and a registry's report (plain data, read by ``doctor``)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import Self

    from ._entry import Provenance


class PluginFailure:
    """A plugin that could not be loaded, and why."""

    __slots__ = ("error", "kind", "name", "provenance")

    def __init__(self, kind: str, name: str, provenance: Provenance, error: BaseException) -> None:
        self.kind, self.name, self.provenance, self.error = kind, name, provenance, error

    def __repr__(self) -> str:
        return f"PluginFailure({self})"

    @property
    def cause(self) -> str:
        from ._errors import describe_exception

        return describe_exception(self.error)

    def __str__(self) -> str:
        return f"{self.name} ({self.provenance}): {self.cause}"


def loaded_line(name: str, origin: str) -> str:
    """A plugin in ``DiscoveryReport.loaded``: its name and its distribution (or plugin file)."""
    return f"{name} ({origin or 'distribution unknown'})"


class Collision(str):
    """Two plugins registered one name (the message, read by ``doctor``); its parts are attributes."""

    name: str
    existing: str
    new: str

    def __new__(cls, name: str, existing: str, new: str) -> Self:
        self = str.__new__(cls, f"{name!r}: {new} collides with {existing}; keeping the first")
        self.name, self.existing, self.new = name, existing, new
        return self


class DiscoveryReport:
    """What ``init_<kind>_plugins()`` found: returned to the caller and shown by ``doctor``."""

    __slots__ = ("collisions", "disabled", "failed", "kind", "loaded", "shadowed")

    def __init__(self, kind: str, loaded: list[str] | None = None, failed: list[PluginFailure] | None = None,
                 disabled: list[str] | None = None, shadowed: list[str] | None = None,
                 collisions: list[Collision] | None = None) -> None:
        self.kind = kind
        self.loaded: list[str] = list(loaded or ())
        self.failed: list[PluginFailure] = list(failed or ())
        self.disabled: list[str] = list(disabled or ())
        self.shadowed: list[str] = list(shadowed or ())
        self.collisions: list[Collision] = list(collisions or ())

    def copy(self) -> DiscoveryReport:
        return DiscoveryReport(self.kind, self.loaded, self.failed, self.disabled, self.shadowed, self.collisions)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.collisions

    def __str__(self) -> str:
        return (
            f"{self.kind}: {len(self.loaded)} loaded, {len(self.failed)} failed, "
            f"{len(self.disabled)} disabled, {len(self.shadowed)} shadowed, "
            f"{len(self.collisions)} collisions"
        )
