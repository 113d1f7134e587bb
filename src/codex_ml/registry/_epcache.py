"""The entry-point index cache file: where it lives, when it is trusted, and reading it safely.

Layout (UTF-8 text, ``\\t``-separated fields)::

    codex-ml-epindex 5          format line
    key <tab> ...               interpreter and sys.path the index is for
    taken <tab> ns              when the stamps were taken (the racy check)
    stamps <tab> path <tab> dev <tab> ino <tab> mtime_ns <tab> ctime_ns <tab> path ...
    blocks <tab> name <tab> offset <tab> length <tab> checksum <tab> name ...
    head <tab> checksum         of every line above
    <blocks>                    one per group (``g:``); for a codex_ml.* group its names
                                (``n:``) and the rest of its listing (``l:``); the
                                distributions and their entry_points.txt stamps

A reader reads the header, then reads (``pread``) and checks only the blocks
it uses, so listing one group reads its names and nothing else (see
docs/guides/entry_points.md). Writing is ``_epwrite``'s.

Trust (docs/reliability.md, "Caches"): the cache folder must be owned by the
user and writable by nobody else, and the file is opened relative to that
folder's descriptor, without following a symlink and without blocking, and
must be a regular file of the user's no bigger than ``MAX_BYTES``. Anything
else is ignored with one warning; the writer then replaces it atomically.
A cache whose stamps fall within the file system's clock tick of its own
scan is never trusted (``racy``).
"""

from __future__ import annotations

import os
import stat  # loaded by the interpreter at start-up already

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable

    from . import _epindex

    Stamp = tuple[str, int, int, int, int]  # (path, dev, ino, mtime_ns, ctime_ns)

FORMAT = "codex-ml-epindex 5"
MAX_BYTES = 64 * 1024 * 1024
PATTERNS = ("entry-points-", ".idx")  # our files: entry-points-*.idx (and their *.tmp)


def warn_once(message: str) -> None:
    """One warning per process and problem: an unsafe cache is noted, never fatal."""
    from ._errors import warn_once as once

    once(message, stacklevel=5)


def checksum(data: bytes) -> str:
    """The bytes as one integer, reduced by ``hash()`` modulo the prime 2**61 - 1, and their length.

    ``hash()`` of an int is defined by the language (not salted per process,
    unlike a str's) and needs no module: zlib alone would cost more to import
    than reading a small index. Any one changed byte changes the sum.
    """
    return f"{hash(int.from_bytes(data, 'little')):x}.{len(data)}"


# ----------------------------------------------------------------- where
def cache_enabled() -> bool:
    from . import _settings

    return _settings.current().cache  # CODEX_ML_CACHE, parsed once with the other settings


def cache_dir() -> str:
    from . import _settings

    explicit = _settings.current().cache_dir  # CODEX_ML_CACHE_DIR
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "codex_ml")


def cache_name(key: str) -> str:
    return f"entry-points-{checksum(key.encode('utf-8', 'surrogateescape')).replace('.', '-')}.idx"


def cache_file(key: str) -> str:
    return os.path.join(cache_dir(), cache_name(key))


def clear_cache() -> list[str]:
    """Remove every index cache file from the cache folder; the paths removed."""
    from . import _epwrite

    return _epwrite.clear(cache_dir())


def racy(stamps: Iterable[Stamp], taken: int) -> bool:
    """A stamp in the same clock tick as the scan may hide a change made right after it.

    File systems with nanosecond times tick every few milliseconds; one with
    whole-second times (FAT, some NFS) needs two seconds.
    """
    for s in stamps:
        for t in s[3:5]:
            age = taken - t
            if t >= 0 and (age < 50_000_000 or (age < 2_000_000_000 and t % 1_000_000_000 == 0)):
                return True
    return False


def stamp(path: str) -> Stamp:
    """(path, device, inode, mtime, ctime): a restored mtime still moves the ctime."""
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1, -1, -1)
    return (path, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)


# ------------------------------------------------------------------ read
def read_cache(folder: str, name: str, key: str) -> _epindex.Index | None:
    """The cached index, or None if absent, unsafe, damaged, racy or for another key."""
    dir_fd = open_dir(folder)
    if dir_fd is None:
        return None
    try:
        opened = open_file(dir_fd, name, os.path.join(folder, name))
    finally:
        os.close(dir_fd)
    if opened is None:
        return None
    try:
        file = CacheFile(opened[0], opened[1], key)
    except (ValueError, IndexError, UnicodeDecodeError, OSError):
        return None
    if racy(file.stamps, file.taken):
        return None
    from . import _epindex

    return _epindex.Index(key, file.stamps, file.taken, "cache", file=file)


class CacheFile:
    """An open cache file: its header checked, each block read and checked on demand.

    The descriptor stays open while the index is in use (closed with this
    object): a writer replaces the file by renaming over it, so every block is
    read from the one file the header described.
    """

    __slots__ = ("_base", "_blocks", "_fd", "_table", "stamps", "taken")

    def __init__(self, fd: int, size: int, key: str) -> None:
        self._fd = fd  # owned from here on, also when the header is refused
        head, self._base = _header(fd, size)
        lines = head.decode("utf-8", "surrogateescape").split("\n")
        if len(lines) != 5 or lines[0] != FORMAT or lines[1] != "key\t" + key.replace("\n", "\\n"):
            raise ValueError("another format or key")
        self.taken = int(lines[2].partition("\t")[2])
        tag, *fields = lines[3].split("\t")
        if tag != "stamps" or len(fields) % 5:
            raise ValueError("damaged stamps")
        self.stamps: tuple[Stamp, ...] = tuple(
            (fields[i], int(fields[i + 1]), int(fields[i + 2]), int(fields[i + 3]), int(fields[i + 4]))
            for i in range(0, len(fields), 5))
        # One line of (name, offset, length, checksum) per block: split once, numbers read when used.
        tag, *self._table = lines[4].split("\t")
        if tag != "blocks" or len(self._table) % 4:
            raise ValueError("damaged block table")
        self._blocks = dict(zip(self._table[::4], range(0, len(self._table), 4)))
        if size != self._base + sum(map(int, self._table[2::4])):
            raise ValueError("truncated or padded")

    def __del__(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def names(self) -> tuple[str, ...]:
        return tuple(self._blocks)

    def block(self, name: str) -> str | None:
        """The block's text, None if absent; ValueError if it is short or its checksum fails."""
        at = self._blocks.get(name)
        if at is None:
            return None
        offset, length = int(self._table[at + 1]), int(self._table[at + 2])
        try:
            data = os.pread(self._fd, length, self._base + offset) if length else b""
        except OSError as exc:
            raise ValueError(f"unreadable block {name!r}") from exc
        if len(data) != length or checksum(data) != self._table[at + 3]:
            raise ValueError(f"damaged block {name!r}")
        return data.decode("utf-8", "surrogateescape")


def _header(fd: int, size: int) -> tuple[bytes, int]:
    """The header's lines (checked) and where the blocks start; a small first read covers most headers."""
    want = 16384
    while True:
        chunk = os.pread(fd, min(want, size), 0)
        end = chunk.find(b"\nhead\t")
        stop = chunk.find(b"\n", end + 1) if end >= 0 else -1
        if stop >= 0:
            if chunk[end + 6:stop].decode() != checksum(chunk[:end]):
                raise ValueError("damaged header")
            return chunk[:end], stop + 1
        if want >= size:
            raise ValueError("damaged header")
        want *= 8


# --------------------------------------------------------- safe opening
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


def open_file(dir_fd: int, name: str, shown: str) -> tuple[int, int] | None:
    """(descriptor, size) if the file is a regular file of the user's, at most MAX_BYTES, else None."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a symlink where the cache should be
        warn_once(f"Ignoring the entry-point cache {shown}: cannot open it without following links "
                  f"({exc.strerror}); it will be replaced. Fix: `codex-ml cache clear`.")
        return None
    st = os.fstat(fd)
    why = _unsafe_file(st)
    if why:
        os.close(fd)
        warn_once(f"Ignoring the entry-point cache {shown}: {why}; it will be replaced. "
                  "Fix: `codex-ml cache clear`.")
        return None
    return fd, st.st_size


def _unsafe_file(st: os.stat_result) -> str:
    if not stat.S_ISREG(st.st_mode):
        return "it is not a regular file"
    if st.st_uid != os.getuid():
        return f"it is owned by uid {st.st_uid}, not by you"
    if st.st_size > MAX_BYTES:
        return f"it is {st.st_size} bytes, more than the {MAX_BYTES} an index may take"
    return ""
