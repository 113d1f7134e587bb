"""Writing the entry-point index cache (``_epcache`` has the layout and reads it).

Only a scan writes (a cold start or a changed environment), so a warm start
never imports this module. The file is written to a temporary name and
renamed over the old one, never following a link (docs/reliability.md,
"Caches").
"""

from __future__ import annotations

import os
import time

from . import _epcache, _epindex
from ._epcache import FORMAT, PATTERNS, checksum
from ._table import hook_group

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._epcache import Stamp
    from ._table import Listing


def store(folder: str, name: str, index: _epindex.Index) -> None:
    """Write ``index`` as the cache; one that cannot be trusted yet replaces none: the old file goes.

    A fresh scan that found the environment changed in place (within the file
    system's clock tick) cannot be cached, and the file it would replace is
    known to be stale: the next process scans again instead of listing it.
    """
    if not write_cache(folder, name, index):
        remove(folder, name)


def write_cache(folder: str, name: str, index: _epindex.Index) -> bool:
    blocks = _blocks(index)
    if blocks is None:
        return False
    data = encode(index.key, index.taken, index.stamps, blocks)
    return data is not None and write(folder, name, data)


def _blocks(index: _epindex.Index) -> dict[str, str] | None:
    """Every block of ``index``, or None when it cannot be cached (racy, or a field with a tab or newline)."""
    own = [s for s in index._dist_stamps or () if isinstance(s, tuple)]
    if _epcache.racy(index.stamps, index.taken) or _epcache.racy(own, index.taken):
        return None  # the next process scans again and writes a cache it can trust
    dists = [index.dist(i) for i in range(len(index._dists or ()))]
    stamps = [s if isinstance(s, tuple) else None for s in index._dist_stamps or ()]
    blocks = {_epindex.DISTS: _checked("".join(f"{n}\t{v}\n" for n, v in dists), len(dists), len(dists)),
              _epindex.DIST_STAMPS: _checked("".join("\t".join(map(str, s)) + "\n" if s else "\n" for s in stamps),
                                             len(stamps), 4 * sum(1 for s in stamps if s))}
    for group in index.groups():
        rows = index.rows(group)
        blocks["g:" + group] = _checked("".join(f"{n}\t{v}\t{d}\n" for n, v, d in rows), len(rows), 2 * len(rows))
        if hook_group(group):  # the codex_ml groups' listings are kept ready to use
            blocks["n:" + group], blocks["l:" + group] = _listing_blocks(index.listing(group))
    return None if None in blocks.values() else blocks  # type: ignore[return-value]


def _checked(text: str, lines: int, tabs: int) -> str | None:
    """``text`` if it has exactly the lines and tabs its fields make: a field with a tab or newline of
    its own would break the format (counting the whole text checks every field at once)."""
    return text if text.count("\n") == lines and text.count("\t") == tabs else None


def _listing_blocks(listing: Listing) -> tuple[str, str]:
    """Two blocks: what a listing reads (rows set apart, then names), and keys and row numbers."""
    def ints(xs: tuple[int, ...]) -> str:
        return "\t".join(map(str, xs))

    names = "\n".join([ints(listing.hooks), ints(listing.invalid), ints(listing.dupes), "\t".join(listing.names)])
    keys = listing.keys  # first: reading them may complete the listing
    return names + "\n", "\t".join(keys) + "\n" + "\t".join(listing.rows) + "\n"


def encode(key: str, taken: int, stamps: Iterable[Stamp], blocks: dict[str, str]) -> bytes | None:
    """The whole file, or None when a field holds a tab or newline the format cannot carry."""
    raw = {name: text.encode("utf-8", "surrogateescape") for name, text in blocks.items()}
    stamps = list(stamps)
    if any("\t" in str(s[0]) or "\n" in str(s[0]) for s in stamps) or any("\n" in n or "\t" in n for n in raw):
        return None
    table, offset = ["blocks"], 0
    for name, data in raw.items():
        table += [name, str(offset), str(len(data)), checksum(data)]
        offset += len(data)
    rows = [FORMAT, "key\t" + key.replace("\n", "\\n"), f"taken\t{taken}",
            "\t".join(["stamps", *(str(f) for s in stamps for f in s)]), "\t".join(table)]
    head = "\n".join(rows).encode("utf-8", "surrogateescape")
    return head + f"\nhead\t{checksum(head)}\n".encode() + b"".join(raw.values())


def write(folder: str, name: str, data: bytes) -> bool:
    """Atomically replace ``folder/name`` (made 0700 if absent); False if the folder is unsafe."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return False
    dir_fd = _epcache.open_dir(folder)
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
    """Remove our cache files (never following links) from ``folder``; the paths removed.

    A folder that does not exist holds nothing; one that cannot be read (or is not a folder)
    raises its ``OSError``: "nothing there" would be a guess.
    """
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
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
    dir_fd = _epcache.open_dir(folder)
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
