"""The offline catalogue: built-in components registered lazily, by dotted path.

Built-ins go through the same lazy-target path as entry-point plugins, so
listing them imports nothing but this table.
"""

from __future__ import annotations

from codex_ml.registry._source import Once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_INSTALL = Once()


def install() -> None:
    """Register every row of the built-in table (once; the built-in registries call it when built)."""
    _INSTALL.run(_install)


def _install() -> None:
    from codex_ml.catalogue._table import BUILTINS
    from codex_ml.registry._directory import all_registries

    by_kind = {reg.kind: reg for reg in all_registries()}
    for kind, name, target, metadata in BUILTINS:
        options: dict[str, Any] = dict(metadata)
        by_kind[kind].register_lazy(name, target, builtin=True, **options)
