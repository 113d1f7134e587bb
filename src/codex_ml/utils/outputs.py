"""Files a command writes where the user points it: docs, reports, plots, exported models.

The rule of run folders (docs/reliability.md, "Hostile neighbours"): the
folder written into, every folder above it and every link on the way must be
the user's own (or root's) and writable by no one else, or another account
could read what is written, replace it, or have planted a link that sends the
write into one of the user's own files. A sticky shared folder such as /tmp
may hold the new files themselves: nobody else can rename or delete them
there. Files are written atomically: a link at the file's name is replaced,
never followed.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from codex_ml.registry._errors import UnsafeFileError


def check_own_folder(folder: Path, option: str) -> None:
    """Refuse ``folder`` (or, while it does not exist, the nearest folder above it) when another
    account could change it; nothing is made. ``option`` is what the user sets to choose another."""
    existing = folder
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    problem = _problem(existing)
    if problem:
        raise UnsafeFileError(str(existing), problem, "folder", action="write into",
                              fix=f"give {option} a folder only you (or root) can write")


def require_own_folder(folder: Path, option: str) -> None:
    """Check the nearest existing folder, make ``folder``, then check it too."""
    check_own_folder(folder, option)  # before anything is made there
    folder.mkdir(parents=True, exist_ok=True)
    check_own_folder(folder, option)


def write_output(path: Path, data: bytes | str, option: str) -> None:
    """Write ``data`` to ``path`` in a folder no one else can change, atomically."""
    from codex_ml.training.atomic import atomic_write_bytes

    require_own_folder(path.parent, option)
    atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)


def _problem(folder: Path) -> str:
    from codex_ml.registry import _fsafe

    problem = _fsafe.check(folder)
    return "" if problem and _sticky_and_safe(folder) else problem


def _sticky_and_safe(folder: Path) -> bool:
    """A sticky folder of root's or the user's (``/tmp``) with a safe path to it."""
    from codex_ml.registry import _fsafe

    try:
        st = os.lstat(folder)
    except OSError:
        return False
    owner_ok = st.st_uid in (0, os.getuid()) if hasattr(os, "getuid") else True
    sticky = stat.S_ISDIR(st.st_mode) and bool(st.st_mode & stat.S_ISVTX)
    return sticky and owner_ok and not _fsafe.check(folder.resolve().parent)
