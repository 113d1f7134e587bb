"""Reading files no other account can plant or swap (docs/reliability.md, "Threat model").

The user trusts their own files and root's; every other account is hostile
and may write wherever the filesystem lets it, at any moment. So, as sshd's
``StrictModes`` checks a home directory:

* every folder from ``/`` down to the file, and every folder on the way
  through every symlink (intermediate links too), must be owned by the user
  or root and not writable by others. A sticky world-writable folder
  (``/tmp``) is fine for entries the user or root owns: others cannot
  rename or delete them there;
* group-writable counts as writable by others unless the group is private:
  no other account has it as primary group or is a member of it;
* the path is resolved one component at a time from open folder
  descriptors, and the file is checked and read from one descriptor
  (``fstat``: regular file, owner, mode, size). Whatever is read is exactly
  what was checked; swapping a file, a folder or a link afterwards changes
  nothing. Opens never block (``O_NONBLOCK``), so a FIFO cannot hang us.

Stdlib only and cheap to import: ``grp``/``pwd`` load on first use.
"""

from __future__ import annotations

import errno
import os
import stat

from ._errors import UnsafeFileError
from ._trust import Trust

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import BinaryIO

_O_PATH = getattr(os, "O_PATH", 0)
_BASE = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | _BASE
_PROBE = (_O_PATH | _BASE) if _O_PATH else _READ  # O_PATH: no side effects, no read right needed
_MAX_LINKS = 40  # as the kernel's own limit (ELOOP)
CHECKED = hasattr(os, "getuid") and os.open in os.supports_dir_fd

__all__ = ["CHECKED", "Trust", "check", "open_file", "read_checked", "read_small_file"]


class _Walk:
    """One path resolved component by component, each step from an open folder descriptor."""

    def __init__(self, path: str, trust: Trust, follow: bool) -> None:
        self.path, self.trust, self.follow = path, trust, follow
        self.stack: list[tuple[int, str]] = []  # (descriptor, real path) from "/" down
        self.links = 0

    def run(self) -> tuple[int, str, os.stat_result]:
        """The final entry's probe descriptor, real path and status; folders above stay open."""
        self._push_root()
        pending = _parts(os.path.join(os.getcwd(), self.path))[::-1]
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                self._pop()
                continue
            found = self._step(name, all(p in ("", ".") for p in pending), pending)
            if found is not None:
                return found
        fd, real = self.stack[-1]  # the path ends in a folder ("/", "x/", "x/..")
        st = os.fstat(fd)
        self._judge(st, real, last=True)
        return os.dup(fd), real, st

    def _push_root(self) -> None:
        fd = os.open("/", _PROBE | getattr(os, "O_DIRECTORY", 0))
        self.stack.append((fd, "/"))
        self._judge(os.fstat(fd), "/", last=False)

    def _pop(self) -> None:
        if len(self.stack) > 1:
            os.close(self.stack.pop()[0])

    def _step(self, name: str, last: bool, pending: list[str]) -> tuple[int, str, os.stat_result] | None:
        parent, parent_real = self.stack[-1]
        real = os.path.join(parent_real, name)
        fd, st = _probe(name, parent)
        problem = self.trust.owner_problem(st)
        if fd is None:  # a symlink: its owner counts (sticky folders), then follow it
            if problem:
                raise UnsafeFileError(self.path, f"the symlink {real} on its path is {problem}")
            self._follow(name, parent, last, pending)
            return None
        try:
            self._judge(st, real, last)
        except BaseException:
            os.close(fd)
            raise
        if last:
            return fd, real, st
        self.stack.append((fd, real))
        return None

    def _follow(self, name: str, parent: int, last: bool, pending: list[str]) -> None:
        if last and not self.follow:
            raise UnsafeFileError(self.path, "it is a symbolic link, and links are not followed here")
        self.links += 1
        if self.links > _MAX_LINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), self.path)
        target = os.readlink(name, dir_fd=parent)
        if target.startswith("/"):
            while len(self.stack) > 1:
                self._pop()
        pending.extend(_parts(target)[::-1])

    def _judge(self, st: os.stat_result, real: str, last: bool) -> None:
        if not last and not stat.S_ISDIR(st.st_mode):
            raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), real)
        problem = self.trust.owner_problem(st) or self.trust.mode_problem(st)
        if not problem or (not last and _sticky_folder(st) and not self.trust.owner_problem(st)):
            return  # a sticky shared folder: every entry below is owner-checked in turn
        raise UnsafeFileError(self.path, self._where(real, last, problem))

    def _where(self, real: str, last: bool, problem: str) -> str:
        if last:
            return f"it is {problem}" if not self.links else f"its symlink target {real} is {problem}"
        if self.links:
            return f"the folder {real} on the way to its symlink target {os.path.realpath(self.path)} is {problem}"
        return f"the folder {real} on its path is {problem}"

    def close(self) -> None:
        while self.stack:
            os.close(self.stack.pop()[0])


def _sticky_folder(st: os.stat_result) -> bool:
    return stat.S_ISDIR(st.st_mode) and bool(st.st_mode & stat.S_ISVTX)


def _parts(path: str) -> list[str]:
    return path.split("/")  # "" and "." entries are skipped; an absolute path starts at "/"


def _probe(name: str, parent: int) -> tuple[int | None, os.stat_result]:
    """Open ``name`` in ``parent`` without following it: (descriptor, status), or (None, status) for a link."""
    try:
        fd = os.open(name, _PROBE, dir_fd=parent)
    except OSError as exc:
        if _O_PATH or exc.errno != errno.ELOOP:
            raise
        return None, os.stat(name, dir_fd=parent, follow_symlinks=False)
    st = os.fstat(fd)
    if stat.S_ISLNK(st.st_mode):
        os.close(fd)
        return None, st
    return fd, st


def check(path: str | os.PathLike[str], trust: Trust | None = None, *, follow_symlinks: bool = True) -> str:
    """Why ``path`` (file or folder) is not safe to trust, or ``''``."""
    if not CHECKED:
        return ""
    walk = _Walk(os.fspath(path), trust or Trust(), follow_symlinks)
    try:
        fd, _, _ = walk.run()
        os.close(fd)
    except UnsafeFileError as exc:
        return exc.reason
    except OSError as exc:
        return f"cannot be read ({type(exc).__name__}: {exc})"
    finally:
        walk.close()
    return ""


def _open_regular(path: str, trust: Trust | None, follow: bool, max_bytes: int | None) -> tuple[int, str]:
    """A blocking read descriptor of the regular file at ``path`` and its real path, checked by fstat."""
    if not CHECKED or trust is None:
        flags = _READ & ~(0 if not follow else getattr(os, "O_NOFOLLOW", 0))
        fd, real = os.open(path, flags), os.path.abspath(path)
    else:
        walk = _Walk(path, trust, follow)
        try:
            probe, real, expected = walk.run()
            os.close(probe)
            _judge_file(expected, path, max_bytes)  # a FIFO or device is never opened for reading
            fd = os.open(os.path.basename(real), _READ, dir_fd=walk.stack[-1][0])
        finally:
            walk.close()
        if (os.fstat(fd).st_dev, os.fstat(fd).st_ino) != (expected.st_dev, expected.st_ino):
            os.close(fd)
            raise UnsafeFileError(path, "it was replaced while it was being opened")
    try:
        _judge_file(os.fstat(fd), path, max_bytes)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, real


def _judge_file(st: os.stat_result, path: str, max_bytes: int | None) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO, device or socket"
        raise UnsafeFileError(path, f"it is not a regular file but {kind}")
    if max_bytes is not None and st.st_size > max_bytes:
        raise UnsafeFileError(path, f"it holds {st.st_size} bytes, more than the {max_bytes} allowed here")


def open_file(
    path: str | os.PathLike[str],
    *,
    follow_symlinks: bool = True,
    trusted: bool = True,
    max_bytes: int | None = None,
    trust: Trust | None = None,
) -> BinaryIO:
    """A binary file object for streaming the regular file at ``path``.

    ``trusted=True`` also runs the owner and mode checks on every folder on
    the way (the module docstring); ``trusted=False`` only refuses what is
    not a regular file, too large, or a final symlink when links are not
    followed. Raises :class:`UnsafeFileError` (a ``PermissionError``) or the
    ``OSError`` of a missing path.
    """
    chosen = (trust or Trust()) if trusted else None
    fd, _ = _open_regular(os.fspath(path), chosen, follow_symlinks, max_bytes)
    return os.fdopen(fd, "rb")


def read_checked(
    path: str | os.PathLike[str], trust: Trust | None = None, *, max_bytes: int, follow_symlinks: bool = True
) -> tuple[bytes, str]:
    """The bytes of a trusted regular file and its real path, read from the descriptor that was checked."""
    fd, real = _open_regular(os.fspath(path), trust or Trust(), follow_symlinks, max_bytes)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew after fstat
        raise UnsafeFileError(os.fspath(path), f"it holds more than the {max_bytes} bytes allowed here")
    return data, real


def read_small_file(
    path: str | os.PathLike[str], *, max_bytes: int, follow_symlinks: bool = False, trusted: bool = True
) -> bytes:
    """The bytes of a small file read implicitly (a pointer, a cache, a fixture).

    Regular files only, opened without blocking and, unless
    ``follow_symlinks``, without following a final symlink; at most
    ``max_bytes``. ``trusted=True`` (the default) also requires the file and
    every folder on its way to be owned by the user or root and not writable
    by others. Raises :class:`~codex_ml.registry.UnsafeFileError` (a
    ``PermissionError`` naming the file, the reason and the fix) or the
    ``OSError`` of a missing path.
    """
    if trusted:
        return read_checked(path, max_bytes=max_bytes, follow_symlinks=follow_symlinks)[0]
    with open_file(path, follow_symlinks=follow_symlinks, trusted=False, max_bytes=max_bytes) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFileError(os.fspath(path), f"it holds more than the {max_bytes} bytes allowed here")
    return data
