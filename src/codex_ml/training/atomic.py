"""Atomic file writes: temporary file, fsync, os.replace, fsync of the folder.

Stdlib only, so the torch-free paths (the tiny fixtures) write run files the
same crash-safe way as the PyTorch checkpoints do.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _fsync_dir(path: Path) -> None:
    # The rename itself lives in the directory entry: flush it too (POSIX only).
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically.

    ``mode``: the permissions the file gets (0o600 for one only its owner may read),
    created with them, so it is never readable by others even for a moment.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A new file of a name nobody can guess, created here and never through a link: in a
    # shared sticky folder another account cannot have prepared it.
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o666 if mode is None else mode))
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str, mode: int | None = None) -> None:
    with atomic_path(path, mode) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_save(write: Callable[[Path], None], path: Path) -> None:
    """Run ``write(tmp)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        write(tmp)
