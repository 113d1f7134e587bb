"""The entry-point index's cache file: where it lives, and reading and writing it safely.

The bytes and the checks on the folder and file are ``_epformat``'s; this
module decides when a cache can be trusted (never one written within the
file system's clock tick of its own stamps) and what goes into it.
"""

from __future__ import annotations

import os
import zlib

from . import _epformat, _epindex
from ._epview import hook_group

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable


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
    raw = key.encode("utf-8", "surrogateescape")
    return f"entry-points-{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}.idx"


def cache_file(key: str) -> str:
    return os.path.join(cache_dir(), cache_name(key))


def clear_cache() -> list[str]:
    """Remove every index cache file from the cache folder; the paths removed."""
    return _epformat.clear(cache_dir())


def _racy(stamps: Iterable[_epformat.Stamp], taken: int) -> bool:
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


def read_cache(folder: str, name: str, key: str) -> _epindex.Index | None:
    """The cached index, or None if absent, unsafe, damaged, racy or for another key."""
    dir_fd = _epformat.open_dir(folder)
    if dir_fd is None:
        return None
    try:
        data = _epformat.read(dir_fd, name, os.path.join(folder, name))
    finally:
        os.close(dir_fd)
    if data is None:
        return None
    try:
        file = _epformat.CacheFile(data, key)
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    if _racy(file.stamps, file.taken):
        return None
    return _epindex.Index(key, file.stamps, file.taken, "cache", file=file)


def store(folder: str, name: str, index: _epindex.Index) -> None:
    """Write ``index`` as the cache; one that cannot be trusted yet replaces none: the old file goes.

    A fresh scan that found the environment changed in place (within the file
    system's clock tick) cannot be cached, and the file it would replace is
    known to be stale: the next process scans again instead of listing it.
    """
    if not write_cache(folder, name, index):
        _epformat.remove(folder, name)


def write_cache(folder: str, name: str, index: _epindex.Index) -> bool:
    own = [s for s in index._dist_stamps or () if isinstance(s, tuple)]
    if _racy(index.stamps, index.taken) or _racy(own, index.taken):
        return False  # the next process scans again and writes a cache it can trust
    dists = [index.dist(i) for i in range(len(index._dists or ()))]
    if any("\t" in f or "\n" in f for d in dists for f in d):
        return False  # a field the format cannot hold: do without the cache
    blocks = {_epindex.DISTS: "".join(f"{n}\t{v}\n" for n, v in dists)}
    if any("\t" in s[0] or "\n" in s[0] for s in own):
        return False
    blocks[_epindex.DIST_STAMPS] = "".join(("\t".join(map(str, s)) if isinstance(s, tuple) else "") + "\n"
                                   for s in index._dist_stamps or ())
    for group in index.groups():
        rows = index.rows(group)
        if any("\t" in f or "\n" in f for r in rows for f in r[:2]):
            return False  # a field the format cannot hold: do without the cache
        blocks["g:" + group] = "".join(f"{n}\t{v}\t{d}\n" for n, v, d in rows)
        if hook_group(group):  # the codex_ml groups' listings are kept ready to use
            blocks["l:" + group] = index.listing(group).encode()
    data = _epformat.encode(index.key, index.taken, index.stamps, blocks)
    return data is not None and _epformat.write(folder, name, data)
