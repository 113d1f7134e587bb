"""Files a command writes where the user points it: docs, reports, plots, exported models.

The rule of run folders (docs/reliability.md, "Hostile neighbours"): the
folder written into, every folder above it and every link on the way must be
the user's own (or root's) and writable by no one else, or another account
could read what is written, replace it, or have planted a link that sends the
write into one of the user's own files. Files are then written atomically: a
link at the file's name is replaced, never followed.
"""
from __future__ import annotations

from pathlib import Path

from codex_ml.registry._errors import UnsafeFileError


def require_own_folder(folder: Path, option: str) -> None:
    """Make ``folder`` if needed; refuse it when another account could change it (``option`` names the fix)."""
    from codex_ml.registry import _fsafe

    folder.mkdir(parents=True, exist_ok=True)
    problem = _fsafe.check(folder)
    if problem:
        raise UnsafeFileError(str(folder), problem, "folder", action="write into",
                              fix=f"give {option} a folder only you (or root) can write")


def write_output(path: Path, data: bytes | str, option: str) -> None:
    """Write ``data`` to ``path`` in a folder no one else can change, atomically."""
    from codex_ml.training.atomic import atomic_write_bytes

    require_own_folder(path.parent, option)
    atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
