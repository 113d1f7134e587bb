"""The offline catalogue: built-in components registered lazily, by dotted path.

Built-ins go through the same lazy-target path as entry-point plugins, so
listing them imports nothing but this table.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_installed = False


def install() -> None:
    """Register every row of the built-in table (idempotent)."""
    global _installed
    if _installed:
        return
    from codex_ml import registry
    from codex_ml.catalogue._table import BUILTINS

    by_kind = {r.kind: r for r in registry.all_registries()}
    for kind, name, target, metadata in BUILTINS:
        options: dict[str, Any] = dict(metadata)
        by_kind[kind].register_lazy(name, target, builtin=True, **options)
    _installed = True
