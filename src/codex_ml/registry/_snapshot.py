"""``with registry.snapshot(): ...``: a registry's whole state, restored on exit."""

from __future__ import annotations

from . import _world

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import Any


class Snapshot:
    """Saves a registry's table and discovery state on enter, restores them on exit (test isolation)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.saved: tuple[Any, dict[str, Any]] | None = None

    def __enter__(self) -> Any:
        reg = self.registry
        with reg._lock:
            self.saved = (reg._table.deep_copy(), _copy_state(reg.source))
        return reg

    def __exit__(self, *exc: object) -> None:
        if self.saved is None:
            return
        reg = self.registry
        table, source = self.saved
        with reg._lock:
            reg.source.__dict__.update(source)
            _world.swap(reg, table)


def _copy_state(source: Any) -> dict[str, Any]:
    """A copy deep enough that changes made inside ``snapshot()`` do not leak out."""
    state: dict[str, Any] = {}
    for key, value in source.__dict__.items():
        if isinstance(value, (dict, list, set)):
            value = type(value)(value)
        elif type(value).__name__ == "DiscoveryReport":
            value = value.copy()
        elif type(value).__name__ == "Once":  # a fresh guard in the same state
            done, value = value.done, type(value)()
            value.done = done
        state[key] = value
    return state
