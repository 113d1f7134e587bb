"""``codex-ml cache clear``: remove the entry-point index cache files.

The index cache (docs/guides/entry_points.md, "The index cache") lives in
``$CODEX_ML_CACHE_DIR``, else ``$XDG_CACHE_HOME/codex_ml``, else
``~/.cache/codex_ml``. Only our own files are removed (``entry-points-*.idx``
and leftover ``*.tmp``), links themselves and never what they point to; the
next process scans ``sys.path`` again and writes a fresh cache.
"""

from __future__ import annotations

from typing import Any

from . import _render
from ._actions import run
from ._kinds import CliError


def cache_clear_action(as_json: bool = False) -> int:
    def produce() -> tuple[Any, list[_render.Block], int]:
        from codex_ml.registry import _epcache

        folder = _epcache.cache_dir()
        try:
            removed = _epcache.clear_cache()
        except OSError as exc:
            raise CliError(f"cannot clear the cache folder {folder}: {exc.strerror or exc}. Fix: set "
                           "CODEX_ML_CACHE_DIR to a folder of your own, or fix this one's permissions.") from None
        data = {"folder": folder, "removed": removed, "count": len(removed)}
        head = f"removed {len(removed)} cache file(s) from {folder}" if removed else f"no cache files in {folder}"
        return data, [_render.Text(head), *(_render.Text(f"  {p}") for p in removed)], 0

    return run(as_json, produce)

