"""The entry-point index cache on disk: a file only its owner controls, read one group at a time.

Layout (UTF-8 text, ``\\t``-separated fields)::

    codex-ml-epindex 3          format line
    key <tab> ...               interpreter and sys.path the index is for
    taken <tab> ns              when the stamps were taken (the racy check)
    stamp <tab> path <tab> dev <tab> ino <tab> mtime_ns <tab> ctime_ns
    block <tab> name <tab> offset <tab> length <tab> crc32
    head <tab> crc32            of every line above
    <blocks>                    one per group (``g:``), a ready listing per codex_ml.* group
                                (``l:``), the distributions and their entry_points.txt stamps

A reader checks the header, then slices and checks only the blocks it uses,
so listing one group never parses the others (see docs/guides/entry_points.md).

Trust (docs/reliability.md, "Caches"): the cache folder must be owned by the
user and writable by nobody else, and the file is opened relative to that
folder's descriptor, without following a symlink and without blocking, and
must be a regular file of the user's no bigger than ``MAX_BYTES``. Anything
else is ignored with one warning; the writer then replaces it atomically.
"""

from __future__ import annotations

import os
import stat
import time
import zlib

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable

    Stamp = tuple[str, int, int, int, int]  # (path, dev, ino, mtime_ns, ctime_ns)

FORMAT = "codex-ml-epindex 4"
MAX_BYTES = 64 * 1024 * 1024
PATTERNS = ("entry-points-", ".idx")  # our files: entry-points-*.idx (and their *.tmp)

def warn_once(message: str) -> None:
    """One warning per process and problem: an unsafe cache is noted, never fatal."""
    from ._errors import warn_once as once

    once(message, stacklevel=5)


def _crc(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


# ------------------------------------------------------------------ encode
def encode(key: str, taken: int, stamps: Iterable[Stamp], blocks: dict[str, str]) -> bytes | None:
    """The whole file, or None when a field holds a tab or newline the format cannot carry."""
    raw = {name: text.encode("utf-8", "surrogateescape") for name, text in blocks.items()}
    rows = [FORMAT, "key\t" + key.replace("\n", "\\n"), f"taken\t{taken}"]
    rows += ["stamp\t" + "\t".join(str(f) for f in s) for s in stamps]
    offset = 0
    for name, data in raw.items():
        rows.append(f"block\t{name}\t{offset}\t{len(data)}\t{_crc(data)}")
        offset += len(data)
    if any("\t" in str(s[0]) or "\n" in str(s[0]) for s in stamps) or any("\n" in n or "\t" in n for n in raw):
        return None
    head = "\n".join(rows).encode("utf-8", "surrogateescape")
    return head + f"\nhead\t{_crc(head)}\n".encode() + b"".join(raw.values())


# ------------------------------------------------------------------ decode
class CacheFile:
    """A cache file's header, with its blocks checked and decoded on demand."""

    __slots__ = ("_base", "_blocks", "_data", "stamps", "taken")

    def __init__(self, data: bytes, key: str) -> None:
        end = data.find(b"\nhead\t")
        stop = data.find(b"\n", end + 1)
        if end < 0 or stop < 0 or data[end + 6:stop].decode() != _crc(data[:end]):
            raise ValueError("damaged header")
        lines = data[:end].decode("utf-8", "surrogateescape").split("\n")
        if lines[0] != FORMAT or lines[1] != "key\t" + key.replace("\n", "\\n"):
            raise ValueError("another format or key")
        self.taken = int(lines[2].partition("\t")[2])
        stamps: list[Stamp] = []
        self._blocks: dict[str, tuple[int, int, str]] = {}
        for line in lines[3:]:
            tag, _, rest = line.partition("\t")
            fields = rest.split("\t")
            if tag == "stamp":
                stamps.append((fields[0], *map(int, fields[1:5])))  # type: ignore[arg-type]
            elif tag == "block":
                self._blocks[fields[0]] = (int(fields[1]), int(fields[2]), fields[3])
        self.stamps = tuple(stamps)
        self._data, self._base = data, stop + 1
        if len(data) != self._base + sum(length for _, length, _ in self._blocks.values()):
            raise ValueError("truncated or padded")

    def names(self) -> tuple[str, ...]:
        return tuple(self._blocks)

    def block(self, name: str) -> str | None:
        """The block's text, None if absent; ValueError if its checksum fails."""
        where = self._blocks.get(name)
        if where is None:
            return None
        start = self._base + where[0]
        data = self._data[start:start + where[1]]
        if len(data) != where[1] or _crc(data) != where[2]:
            raise ValueError(f"damaged block {name!r}")
        return data.decode("utf-8", "surrogateescape")


# --------------------------------------------------------- safe reading
def open_dir(path: str) -> int | None:
    """A descriptor of the cache folder if the user owns it and nobody else can write it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    why = _unsafe_dir(os.fstat(fd))
    if why:
        os.close(fd)
        warn_once(f"Ignoring the entry-point cache folder {path}: {why}. Fix: use a folder of your own "
                  "(set CODEX_ML_CACHE_DIR) or `chmod go-w` it; the cache is not used meanwhile.")
        return None
    return fd


def _unsafe_dir(st: os.stat_result) -> str:
    uid = os.getuid()
    if st.st_uid != uid:
        return f"it is owned by uid {st.st_uid}, not by you (uid {uid})"
    if st.st_mode & 0o022:
        return f"others can write to it (mode {stat.S_IMODE(st.st_mode):o})"
    return ""


def read(dir_fd: int, name: str, shown: str) -> bytes | None:
    """The file's bytes if it is a regular file of the user's, at most MAX_BYTES, else None."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a symlink where the cache should be
        warn_once(f"Ignoring the entry-point cache {shown}: cannot open it without following links "
                  f"({exc.strerror}); it will be replaced. Fix: `codex-ml cache clear`.")
        return None
    try:
        st = os.fstat(fd)
        why = _unsafe_file(st)
        if why:
            warn_once(f"Ignoring the entry-point cache {shown}: {why}; it will be replaced. "
                      "Fix: `codex-ml cache clear`.")
            return None
        return _read_all(fd, st.st_size)
    finally:
        os.close(fd)


def _unsafe_file(st: os.stat_result) -> str:
    if not stat.S_ISREG(st.st_mode):
        return "it is not a regular file"
    if st.st_uid != os.getuid():
        return f"it is owned by uid {st.st_uid}, not by you"
    if st.st_size > MAX_BYTES:
        return f"it is {st.st_size} bytes, more than the {MAX_BYTES} an index may take"
    return ""


def _read_all(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = os.read(fd, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------- safe writing
def write(folder: str, name: str, data: bytes) -> bool:
    """Atomically replace ``folder/name`` (made 0700 if absent); False if the folder is unsafe."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return False
    dir_fd = open_dir(folder)
    if dir_fd is None:
        return False
    tmp = f"{name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=dir_fd)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # replaces a planted link itself
        return True
    except OSError:
        _unlink(tmp, dir_fd)
        return False
    finally:
        os.close(dir_fd)


def clear(folder: str) -> list[str]:
    """Remove our cache files (never following links) from ``folder``; the paths removed."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return []
    removed = []
    try:
        for name in sorted(os.listdir(dir_fd)):
            ours = name.startswith(PATTERNS[0]) and name.endswith((PATTERNS[1], ".tmp"))
            if ours and _unlink(name, dir_fd):
                removed.append(os.path.join(folder, name))
    finally:
        os.close(dir_fd)
    return removed


def remove(folder: str, name: str) -> None:
    """Remove one cache file of ours from a safe ``folder`` (never following a link)."""
    dir_fd = open_dir(folder)
    if dir_fd is not None:
        try:
            _unlink(name, dir_fd)
        finally:
            os.close(dir_fd)


def _unlink(name: str, dir_fd: int) -> bool:
    try:
        os.unlink(name, dir_fd=dir_fd)
        return True
    except OSError:
        return False


def stamp(path: str) -> Stamp:
    """(path, device, inode, mtime, ctime): a restored mtime still moves the ctime."""
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1, -1, -1)
    return (path, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
