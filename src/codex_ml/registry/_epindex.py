"""The entry-point index: every entry point of every group on ``sys.path``.

Reading ``entry_points.txt`` files by hand is cheaper than importing
``importlib.metadata`` (about 30 ms), and the result is cached (``_epcache``)
per interpreter and exact ``sys.path``: a warm start costs one ``stat`` per
``sys.path`` entry and one file read. It sees what ``importlib.metadata`` sees;
a patched ``importlib.metadata.entry_points`` is read instead (``_epmock``).
Staleness, stamps and the racy clock tick: docs/guides/entry_points.md, "The
index cache" (``Index.fresh`` checks a distribution when one of its names is
looked up). Every module-level function holds one lock.
"""

from __future__ import annotations

import _thread
import os
import sys

from . import _epcache
from ._table import Listing, hook_group

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable

    from ._epcache import CacheFile, Stamp
    from ._epview import GroupView

    Row = tuple[str, str, int]  # (name, value, distribution number)

PREFIX = "codex_ml"
DISTS = "dists"  # the block of (name, version) per distribution
DIST_STAMPS = "dist-stamps"  # the block of each distribution's entry_points.txt stamp


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

    def __init__(self, key: str, stamps: tuple[Stamp, ...], taken: int, source: str,
                 rows: dict[str, tuple[Row, ...]] | None = None,
                 dists: tuple[tuple[str, str], ...] | None = None,
                 file: CacheFile | None = None,
                 dist_stamps: tuple[Stamp | None, ...] | None = None) -> None:
        self.key, self.stamps, self.taken = key, stamps, taken
        self.source = source  # "scan" or "cache": reported by the benchmarks and `doctor`
        self._file = file
        self._rows: dict[str, tuple[Row, ...]] = dict(rows or {})
        self._dists = dists
        self._dist_stamps: tuple[Stamp | str | None, ...] | None = dist_stamps  # checked on lookup
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
            text = self._block(DISTS) or ""
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
            text = self._block(DIST_STAMPS) or ""
            if self._dist_stamps is None:  # lines stay text until their distribution is asked about
                self._dist_stamps = tuple(text.split("\n")[:-1])
        known = self._dist_stamps[number] if number < len(self._dist_stamps) else None
        if isinstance(known, str):
            known = _stamp_of(known)
        return known is None or _epcache.stamp(known[0]) == known

    def refreshed(self) -> None:
        """Scan again (something changed under this index) and rewrite the cache."""
        global _memo
        self._rescan()
        if _memo is self:
            _memo = None  # the next current() checks the stamps again

    def _block(self, name: str) -> str | None:
        """A block of the cache file; a damaged one turns this index into a fresh scan."""
        file = self._file  # read once: a rescan in another thread may drop it meanwhile
        try:
            return None if file is None else file.block(name)
        except ValueError:
            self._rescan()
            return None

    def _rescan(self) -> None:
        from . import _epscan, _epwrite

        fresh = _epscan.build(self.key)
        self._file, self._rows, self._dists, self._listings = None, dict(fresh._rows), fresh._dists, {}
        self._dist_stamps = fresh._dist_stamps
        self.stamps, self.taken, self.source = fresh.stamps, fresh.taken, "scan"
        if _epcache.cache_enabled():
            _epwrite.store(_epcache.cache_dir(), _epcache.cache_name(self.key), self)

    def record(self, group: str, row: Row) -> EPRecord:
        return EPRecord(group, row[0], row[1], *self.dist(row[2]))

    def group_records(self, group: str) -> list[EPRecord]:
        return [self.record(group, r) for r in self.rows(group)]

    def listing(self, group: str) -> Listing:
        """The registry's view of ``group``: names sorted, hooks and bad names apart (cached)."""
        found = self._listings.get(group)
        if found is None:
            found = self._cached_listing(group) or _derive(self.rows(group), hook_group(group))
            self._listings[group] = found
        return found

    def _cached_listing(self, group: str) -> Listing | None:
        """The names block of ``group``; its keys and rows are read when first needed."""
        text = self._block("n:" + group)
        if text is None:
            return None
        try:
            listing = Listing.decode(text, lambda: self._completed(group, listing))
        except ValueError:
            self._rescan()
            return None
        return listing

    def _completed(self, group: str, listing: Listing) -> Listing:
        """``listing`` with its keys and rows; derived afresh when their block is missing or damaged."""
        text = self._block("l:" + group)
        try:
            if text is not None:
                return listing.with_columns(text)
        except ValueError:
            self._rescan()
        return _derive(self.rows(group), hook_group(group))

    @property
    def records(self) -> tuple[EPRecord, ...]:
        """Every ``codex_ml*`` entry point (what ``doctor`` summarises)."""
        return tuple(r for g in self.groups() if g.startswith(PREFIX) for r in self.group_records(g))


def _derive(rows: tuple[Row, ...], hooks_allowed: bool) -> Listing:
    from ._epscan import derive_listing  # a scan, or a cache without this group's listing
    return derive_listing(rows, hooks_allowed)


def _row(line: str) -> Row:
    name, value, number = line.split("\t")
    return name, value, int(number)


def _stamp_of(line: str) -> Stamp | None:
    path, *numbers = line.split("\t")
    return (path, *map(int, numbers)) if line else None  # type: ignore[return-value]


_memo: Index | None = None
_lock = _thread.RLock()


def current() -> Index:
    """The in-process index, (re)built when ``sys.path`` changed."""
    global _memo
    key = _key()
    with _lock:
        if _memo is None or _memo.key != key:
            _memo = _load_or_build(key)
        return _memo


def records(group: str) -> list[EPRecord]:
    """Entry points of ``group``, first distribution on ``sys.path`` first."""
    with _lock:
        return _index(group).group_records(group)


def invalidate() -> None:
    global _memo
    with _lock:
        _memo = None


def changed() -> bool:
    """True when the environment no longer matches the in-process index."""
    with _lock:
        return _memo is None or _memo.key != _key() or stamps_now(_memo.stamps) != _memo.stamps


def latest() -> Index:
    """The index, rebuilt first if the installed distributions changed (auto-refresh)."""
    with _lock:
        if changed():
            invalidate()
        return current()


def plain_names(group: str) -> list[str] | None:
    """``group``'s listed names, or None when a row of it needs a look (hook, rejected name, collision)."""
    with _lock:
        listing = _index(group).listing(group)
        return None if listing.hooks or listing.invalid or listing.dupes else list(listing.names)


def view(group: str, rules: Callable[[EPRecord], str] | None) -> GroupView:
    """The names of ``group`` a registry lists, from the current index."""
    from ._epview import GroupView

    with _lock:
        return GroupView(_index(group), group, rules)


def _index(group: str) -> Index:
    """``current()``; what a patched ``importlib.metadata.entry_points`` gives for ``group`` (``_epmock``)."""
    module = sys.modules.get("importlib.metadata")
    found = getattr(module, "entry_points", None)  # not imported: not patched
    code = getattr(found, "__code__", None)  # the stdlib's own code, not a wrapper with its name (wraps)
    if found is None or (code and (code.co_name, code.co_filename) == ("entry_points", module.__file__)):  # type: ignore[union-attr]
        return current()
    from ._epmock import index

    return index(found, group)


def record(group_view: GroupView, key: str) -> EPRecord | None:
    """The entry point ``group_view`` lists under ``key`` (its distribution checked fresh first)."""
    with _lock:
        return group_view.record(key)


def _key() -> str:
    # '' on sys.path means "the working directory": key and stamp the real folder.
    paths = (p or os.getcwd() for p in sys.path)
    return "\x1f".join((sys.executable, sys.version, *paths))


def stamps_now(stamps: tuple[Stamp, ...]) -> tuple[Stamp, ...]:
    return tuple(_epcache.stamp(s[0]) for s in stamps)


def _load_or_build(key: str) -> Index:
    enabled = _epcache.cache_enabled()
    folder, name = _epcache.cache_dir(), _epcache.cache_name(key)
    cached = _epcache.read_cache(folder, name, key) if enabled else None
    if cached is not None and stamps_now(cached.stamps) == cached.stamps:
        return cached
    from . import _epscan, _epwrite  # a cold start or a changed environment: scan sys.path

    index = _epscan.build(key)
    if enabled:
        _epwrite.store(folder, name, index)
    return index
