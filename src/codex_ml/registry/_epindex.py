"""The entry-point index: every entry point of every group on ``sys.path``.

Reading ``entry_points.txt`` files by hand is cheaper than importing
``importlib.metadata`` (about 30 ms on its own), and the result is kept in a
persistent cache (``_epformat``) keyed by the interpreter and the exact
``sys.path``, so a warm start costs one ``stat`` per ``sys.path`` entry and
one file read, whatever the number of installed distributions; a group's
block is decoded only when that group is asked for.

What the index sees is what ``importlib.metadata`` sees: ``*.dist-info`` and
``*.egg-info`` folders in each ``sys.path`` folder, the ``EGG-INFO`` of an
unzipped ``.egg`` folder on ``sys.path``, and zip archives on ``sys.path``;
the first distribution of a name on ``sys.path`` wins.

Staleness (docs/guides/entry_points.md, "The index cache"): installing,
upgrading or removing a distribution adds or removes a folder in a
``sys.path`` folder. Each ``sys.path`` entry is stamped with its device,
inode, mtime and ctime: a deploy that restores mtimes (``tar -x``,
``rsync -a``, ``touch -r``) still moves the ctime, which no restore can set,
and a folder replaced under the same name has a new inode. Files rewritten
in place (a legacy ``*.egg-info``, an ``.egg``'s ``EGG-INFO``) are stamped
too, and so is every distribution's ``entry_points.txt``, checked when one of
its names is looked up (``Index.fresh``). A stamp within the file system's clock tick of the scan could hide a
later change in the same tick (git's "racy" problem), so such a cache is
never trusted.
"""

from __future__ import annotations

import os
import sys
import time
import zlib

from . import _epformat
from ._epview import Listing, hook_group

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable

    Row = tuple[str, str, int]  # (name, value, distribution number)

PREFIX = "codex_ml"
_DISTS = "dists"  # the block of (name, version) per distribution
_DIST_STAMPS = "dist-stamps"  # the block of each distribution's entry_points.txt stamp


class EPRecord(tuple):  # type: ignore[type-arg]
    """(group, name, value, distribution, version) of one entry point."""

    __slots__ = ()

    def __new__(cls, group: str, name: str, value: str, distribution: str, version: str) -> EPRecord:
        return tuple.__new__(cls, (group, name, value, distribution, version))

    @property
    def group(self) -> str:
        return str(self[0])

    @property
    def name(self) -> str:
        return str(self[1])

    @property
    def value(self) -> str:
        return str(self[2])

    @property
    def distribution(self) -> str:
        return str(self[3])

    @property
    def version(self) -> str:
        return str(self[4])


class Index:
    """Every entry point for one interpreter and ``sys.path``, decoded one group at a time."""

    __slots__ = ("_dist_stamps", "_dists", "_file", "_listings", "_rows", "key", "source", "stamps", "taken")

    def __init__(self, key: str, stamps: tuple[_epformat.Stamp, ...], taken: int, source: str,
                 rows: dict[str, tuple[Row, ...]] | None = None,
                 dists: tuple[tuple[str, str], ...] | None = None,
                 file: _epformat.CacheFile | None = None,
                 dist_stamps: tuple[_epformat.Stamp | None, ...] | None = None) -> None:
        self.key, self.stamps, self.taken = key, stamps, taken
        self.source = source  # "scan" or "cache": reported by the benchmarks and `doctor`
        self._file = file
        self._rows: dict[str, tuple[Row, ...]] = dict(rows or {})
        self._dists = dists
        self._dist_stamps: tuple[_epformat.Stamp | str | None, ...] | None = dist_stamps  # checked on lookup
        self._listings: dict[str, Listing] = {}

    def groups(self) -> tuple[str, ...]:
        if self._file is not None:
            return tuple(sorted(n[2:] for n in self._file.names() if n.startswith("g:")))
        return tuple(sorted(self._rows))

    def rows(self, group: str) -> tuple[Row, ...]:
        """``(name, value, distribution number)`` of ``group``, first on ``sys.path`` first."""
        found = self._rows.get(group)
        if found is None and self._file is not None:
            text = self._block("g:" + group)
            if self._file is not None:
                found = self._rows[group] = tuple(_row(line) for line in text.split("\n") if line) if text else ()
        return found if found is not None else self._rows.get(group, ())

    def dist(self, number: int) -> tuple[str, str]:
        if self._dists is None:
            text = self._block(_DISTS) or ""
            if self._dists is None:
                self._dists = tuple(tuple(line.split("\t")) for line in text.split("\n") if line)  # type: ignore[misc]
        return self._dists[number]

    def fresh(self, number: int) -> bool:
        """False when distribution ``number``'s ``entry_points.txt`` changed since the scan.

        A file rewritten inside an existing ``*.dist-info`` folder leaves the
        ``sys.path`` folder alone, so it is checked here, when one of its names
        is looked up (one ``stat``), before anything of it is imported.
        """
        if self._dist_stamps is None:
            text = self._block(_DIST_STAMPS) or ""
            if self._dist_stamps is None:  # lines stay text until their distribution is asked about
                self._dist_stamps = tuple(text.split("\n")[:-1])
        known = self._dist_stamps[number] if number < len(self._dist_stamps) else None
        if isinstance(known, str):
            known = _stamp_of(known)
        return known is None or stamp(known[0]) == known

    def refreshed(self) -> None:
        """Scan again (something changed under this index) and rewrite the cache."""
        global _memo
        self._rescan()
        if _memo is self:
            _memo = None  # the next current() checks the stamps again

    def _block(self, name: str) -> str | None:
        """A block of the cache file; a damaged one turns this index into a fresh scan."""
        if self._file is None:
            return None
        try:
            return self._file.block(name)
        except ValueError:
            self._rescan()
            return None

    def _rescan(self) -> None:
        fresh = build(self.key)
        self._file, self._rows, self._dists, self._listings = None, dict(fresh._rows), fresh._dists, {}
        self._dist_stamps = fresh._dist_stamps
        self.stamps, self.taken, self.source = fresh.stamps, fresh.taken, "scan"
        if cache_enabled():
            write_cache(cache_dir(), cache_name(self.key), self)

    def record(self, group: str, row: Row) -> EPRecord:
        return EPRecord(group, row[0], row[1], *self.dist(row[2]))

    def group_records(self, group: str) -> list[EPRecord]:
        return [self.record(group, r) for r in self.rows(group)]

    def names(self, group: str) -> list[str]:
        return [r[0] for r in self.rows(group)]

    def lookup(self, group: str, name: str) -> EPRecord | None:
        """The first entry point of ``group`` named exactly ``name``."""
        return next((self.record(group, r) for r in self.rows(group) if r[0] == name), None)

    def listing(self, group: str) -> Listing:
        """The registry's view of ``group``: names sorted, hooks and bad names apart (cached)."""
        found = self._listings.get(group)
        if found is None:
            text = self._block("l:" + group)
            try:
                found = Listing.decode(text) if text is not None else None
            except ValueError:
                self._rescan()
            if found is None:
                found = Listing.derive(self.rows(group), hook_group(group))
            self._listings[group] = found
        return found

    @property
    def records(self) -> tuple[EPRecord, ...]:
        """Every ``codex_ml*`` entry point (what ``doctor`` summarises)."""
        return tuple(r for g in self.groups() if g.startswith(PREFIX) for r in self.group_records(g))


def _row(line: str) -> Row:
    name, value, number = line.split("\t")
    return name, value, int(number)


def _stamp_of(line: str) -> _epformat.Stamp | None:
    if not line:
        return None
    path, *numbers = line.split("\t")
    return (path, *map(int, numbers))  # type: ignore[return-value]


_memo: Index | None = None


def records(group: str) -> list[EPRecord]:
    """Entry points of ``group``, first distribution on ``sys.path`` first."""
    return current().group_records(group)


def names(group: str) -> list[str]:
    return current().names(group)


def lookup(group: str, name: str) -> EPRecord | None:
    return current().lookup(group, name)


def current() -> Index:
    """The in-process index, (re)built when ``sys.path`` changed."""
    global _memo
    key = _key()
    if _memo is None or _memo.key != key:
        _memo = _load_or_build(key)
    return _memo


def invalidate() -> None:
    global _memo
    _memo = None


def changed() -> bool:
    """True when the environment no longer matches the in-process index."""
    return _memo is None or _memo.key != _key() or _stamps_now(_memo.stamps) != _memo.stamps


def _key() -> str:
    # '' on sys.path means "the working directory": key and stamp the real folder.
    paths = (p or os.getcwd() for p in sys.path)
    return "\x1f".join((sys.executable, sys.version, *paths))


# ---------------------------------------------------------------- scanning
class _Scan:
    """One pass over ``sys.path``: rows per group, distributions, stamps."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.rows: dict[str, list[Row]] = {}
        self.dists: list[tuple[str, str]] = []
        self.dist_stamps: list[_epformat.Stamp | None] = []
        self.stamps: list[_epformat.Stamp] = []

    def add(self, name: str, version: str, entries: Iterable[tuple[str, str, str]],
            own_stamp: _epformat.Stamp | None = None) -> None:
        number = len(self.dists)
        self.dists.append((name, version))
        self.dist_stamps.append(own_stamp)
        for group, ep_name, value in entries:
            self.rows.setdefault(group, []).append((ep_name, value, number))

    def claim(self, dist_key: str) -> bool:
        """False when a distribution of that name came earlier on ``sys.path``."""
        if dist_key in self.seen:
            return False
        self.seen.add(dist_key)
        return True


def build(key: str) -> Index:
    scan = _Scan()
    taken = time.time_ns()
    for entry in sys.path:
        path = entry or os.getcwd()
        scan.stamps.append(stamp(path))
        if os.path.isdir(path):
            _scan_dir(path, scan)
            if path.lower().endswith(".egg"):
                _scan_egg(path, scan)
        elif os.path.isfile(path):
            _scan_archive(path, scan)
    rows = {g: tuple(r) for g, r in scan.rows.items()}
    return Index(key, tuple(scan.stamps), taken, "scan", rows, tuple(scan.dists), dist_stamps=tuple(scan.dist_stamps))


def _scan_dir(path: str, scan: _Scan) -> None:
    try:
        children = sorted(os.listdir(path))
    except OSError:
        return
    for child in children:
        if not child.endswith((".dist-info", ".egg-info")) or not scan.claim(_dist_key(child)):
            continue
        meta_dir = os.path.join(path, child)
        ep_file = os.path.join(meta_dir, "entry_points.txt")
        if child.endswith(".egg-info"):  # rewritten in place by setup.py develop
            scan.stamps.append(stamp(ep_file))
        name, version = _dist_name_version(meta_dir, child, scan)
        text, own = _read_stamped(ep_file)
        scan.add(name, version, parse(text), own)


def _scan_egg(path: str, scan: _Scan) -> None:
    """An unzipped ``name-version-pyX.egg`` folder on sys.path: its ``EGG-INFO``."""
    base = os.path.basename(path).rsplit(".", 1)[0]
    info = os.path.join(path, "EGG-INFO")
    if not os.path.isdir(info) or not scan.claim(_dist_key(base)):
        return
    ep_file = os.path.join(info, "entry_points.txt")
    scan.stamps.extend((stamp(info), stamp(ep_file)))
    name, version = _dist_name_version(info, base.split("-")[0], scan)
    scan.add(name, version, parse(_read(ep_file)))


def _scan_archive(path: str, scan: _Scan) -> None:
    """Zip files on sys.path are rare: let importlib.metadata read them."""
    from importlib.metadata import distributions

    for dist in distributions(path=[path]):
        name = dist.metadata["Name"] or ""
        if name and scan.claim(_dist_key(name)):
            scan.add(name, dist.version or "", ((ep.group, ep.name, ep.value) for ep in dist.entry_points))


def parse(text: str) -> Iterable[tuple[str, str, str]]:
    """(group, name, value) of every entry point in an ``entry_points.txt``."""
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            group = line[1:-1].strip()
        elif group and "=" in line:
            name, _, value = line.partition("=")
            yield group, name.strip(), value.strip()


def _dist_key(dirname: str) -> str:
    base = dirname.rsplit(".", 1)[0] if dirname.endswith(("-info", ".egg")) else dirname
    return base.split("-", 1)[0].lower().replace("-", "_").replace(".", "_")


def _dist_name_version(meta_dir: str, dirname: str, scan: _Scan) -> tuple[str, str]:
    """Normalised name and version from the folder name (``name-version.dist-info``).

    Only a folder without a version (a legacy ``name.egg-info``, an ``EGG-INFO``)
    costs a read of its headers, which are then stamped: a cold scan reads no
    more files than importlib.metadata.
    """
    base = dirname.rsplit(".", 1)[0] if dirname.endswith("-info") else dirname
    name, _, version = base.partition("-")
    if version:
        return name.lower().replace("_", "-").replace(".", "-"), version
    for fname in ("METADATA", "PKG-INFO"):
        text = _read(os.path.join(meta_dir, fname), limit=4096)
        if text:
            scan.stamps.append(stamp(os.path.join(meta_dir, fname)))
            headers = dict(_headers(text))
            return headers.get("Name", name), headers.get("Version", version)
    return name, version


def _headers(text: str) -> Iterable[tuple[str, str]]:
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version"):
            yield key, value.strip()


def _read_stamped(path: str) -> tuple[str, _epformat.Stamp]:
    """The file's text and its stamp, taken from the same open file (no gap between them)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            st = os.fstat(fh.fileno())
            return fh.read(), (path, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    except OSError:
        return "", (path, -1, -1, -1, -1)


def _read(path: str, limit: int = -1) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(limit)
    except OSError:
        return ""


def stamp(path: str) -> _epformat.Stamp:
    """(path, device, inode, mtime, ctime): a restored mtime still moves the ctime."""
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1, -1, -1)
    return (path, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)


def _stamps_now(stamps: tuple[_epformat.Stamp, ...]) -> tuple[_epformat.Stamp, ...]:
    return tuple(stamp(s[0]) for s in stamps)


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


# ------------------------------------------------------------------ cache
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


def _load_or_build(key: str) -> Index:
    if not cache_enabled():
        return build(key)
    folder, name = cache_dir(), cache_name(key)
    cached = read_cache(folder, name, key)
    if cached is not None and _stamps_now(cached.stamps) == cached.stamps:
        return cached
    index = build(key)
    write_cache(folder, name, index)
    return index


def read_cache(folder: str, name: str, key: str) -> Index | None:
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
    return Index(key, file.stamps, file.taken, "cache", file=file)


def write_cache(folder: str, name: str, index: Index) -> bool:
    own = [s for s in index._dist_stamps or () if isinstance(s, tuple)]
    if _racy(index.stamps, index.taken) or _racy(own, index.taken):
        return False  # the next process scans again and writes a cache it can trust
    dists = [index.dist(i) for i in range(len(index._dists or ()))]
    if any("\t" in f or "\n" in f for d in dists for f in d):
        return False  # a field the format cannot hold: do without the cache
    blocks = {_DISTS: "".join(f"{n}\t{v}\n" for n, v in dists)}
    if any("\t" in s[0] or "\n" in s[0] for s in own):
        return False
    blocks[_DIST_STAMPS] = "".join(("\t".join(map(str, s)) if isinstance(s, tuple) else "") + "\n"
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
