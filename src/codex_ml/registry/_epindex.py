"""The entry-point index: every ``codex_ml*`` entry point on ``sys.path``.

Reading ``entry_points.txt`` files by hand is cheaper than importing
``importlib.metadata`` (about 30 ms on its own), and the result is kept in a
persistent cache keyed by the interpreter and the exact ``sys.path``, so a
warm start costs one file read plus one ``stat`` per ``sys.path`` entry,
whatever the number of installed distributions.

Staleness: installing, upgrading or removing a distribution creates or
deletes a folder in a ``sys.path`` entry, which changes that entry's mtime;
legacy ``*.egg-info`` folders (``setup.py develop``) are rewritten in place,
so their ``entry_points.txt`` is stamped too. A stamp taken within
``_RACY_NS`` of writing the cache could hide a later edit in the same clock
tick (git's "racy" problem), so such a cache is never trusted.

A corrupt, truncated, foreign (another user's) or unreadable cache file is
ignored and rebuilt; writing is atomic (temporary file, fsync, rename), so
several processes starting at once each see a whole file or none.
"""

from __future__ import annotations

import os
import sys
import time
import zlib

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable

PREFIX = "codex_ml"
_MAGIC = "codex-ml-epindex 1"
_RACY_NS = 2_000_000_000


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
    """Every codex_ml entry point for one interpreter and ``sys.path``."""

    __slots__ = ("key", "stamps", "records", "source")

    def __init__(self, key: str, stamps: tuple[tuple[str, int], ...], records: tuple[EPRecord, ...],
                 source: str) -> None:
        self.key = key
        self.stamps = stamps
        self.records = records
        self.source = source  # "scan" or "cache": reported by the benchmarks and `doctor`


_memo: Index | None = None


def records(group: str) -> list[EPRecord]:
    """Entry points of ``group``, first distribution on ``sys.path`` first."""
    return [r for r in current().records if r.group == group]


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
def build(key: str) -> Index:
    seen: set[str] = set()
    found: list[EPRecord] = []
    stamps: list[tuple[str, int]] = []
    for entry in sys.path:
        path = entry or os.getcwd()
        stamps.append((path, _mtime(path)))
        if os.path.isdir(path):
            found.extend(_scan_dir(path, seen, stamps))
        elif os.path.isfile(path):
            found.extend(_scan_archive(path, seen))
    return Index(key, tuple(stamps), tuple(found), "scan")


def _scan_dir(path: str, seen: set[str], stamps: list[tuple[str, int]]) -> Iterable[EPRecord]:
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return []
    out: list[EPRecord] = []
    for name in names:
        if not name.endswith((".dist-info", ".egg-info")):
            continue
        meta_dir = os.path.join(path, name)
        ep_file = os.path.join(meta_dir, "entry_points.txt")
        if name.endswith(".egg-info"):  # rewritten in place by setup.py develop
            stamps.append((ep_file, _mtime(ep_file)))
        text = _read(ep_file)
        dist = _dist_key(name)
        if dist in seen:
            continue
        seen.add(dist)
        if text and PREFIX in text:
            display, version = _dist_name_version(meta_dir, name)
            out.extend(EPRecord(g, n, v, display, version) for g, n, v in parse(text))
    return out


def _scan_archive(path: str, seen: set[str]) -> Iterable[EPRecord]:
    """Zip files on sys.path are rare: let importlib.metadata read them."""
    from importlib.metadata import distributions

    out: list[EPRecord] = []
    for dist in distributions(path=[path]):
        name = dist.metadata["Name"] or ""
        if not name or _dist_key(name) in seen:
            continue
        seen.add(_dist_key(name))
        for ep in dist.entry_points:
            if ep.group.startswith(PREFIX):
                out.append(EPRecord(ep.group, ep.name, ep.value, name, dist.version or ""))
    return out


def parse(text: str) -> Iterable[tuple[str, str, str]]:
    """(group, name, value) of an ``entry_points.txt`` in the codex_ml groups."""
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            group = line[1:-1].strip()
        elif group.startswith(PREFIX) and "=" in line:
            name, _, value = line.partition("=")
            yield group, name.strip(), value.strip()


def _dist_key(dirname: str) -> str:
    base = dirname.rsplit(".", 1)[0]
    return base.split("-", 1)[0].lower().replace("-", "_").replace(".", "_")


def _dist_name_version(meta_dir: str, dirname: str) -> tuple[str, str]:
    """Normalised name and version from the folder name (``name-version.dist-info``).

    Only a folder without a version (a legacy ``name.egg-info``) costs a read
    of its headers: a cold scan reads no more files than importlib.metadata.
    """
    base = dirname.rsplit(".", 1)[0]
    name, _, version = base.partition("-")
    if version:
        return name.lower().replace("_", "-").replace(".", "-"), version
    for fname in ("METADATA", "PKG-INFO"):
        text = _read(os.path.join(meta_dir, fname), limit=4096)
        if text:
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


def _read(path: str, limit: int = -1) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(limit)
    except OSError:
        return ""


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _stamps_now(stamps: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    return tuple((p, _mtime(p)) for p, _ in stamps)


# ------------------------------------------------------------------ cache
def cache_enabled() -> bool:
    return os.environ.get("CODEX_ML_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dir() -> str:
    explicit = os.environ.get("CODEX_ML_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "codex_ml")


def cache_file(key: str) -> str:
    raw = key.encode("utf-8", "surrogateescape")
    digest = f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}"
    return os.path.join(cache_dir(), f"entry-points-{digest}.idx")


def _load_or_build(key: str) -> Index:
    if not cache_enabled():
        return build(key)
    path = cache_file(key)
    cached = read_cache(path, key)
    if cached is not None and _stamps_now(cached.stamps) == cached.stamps:
        return cached
    index = build(key)
    write_cache(path, index)
    return index


def read_cache(path: str, key: str) -> Index | None:
    """The cached index, or None if absent, foreign, corrupt, racy or for another key."""
    try:
        with open(path, "rb") as fh:
            if hasattr(os, "getuid") and os.fstat(fh.fileno()).st_uid != os.getuid():
                return None  # another user's file: never trust it
            data = fh.read()
        return _decode(data.decode("utf-8", "surrogateescape"), key)
    except (OSError, ValueError, IndexError):
        return None


def _decode(text: str, key: str) -> Index | None:
    body, sep, trailer = text.rstrip("\n").rpartition("\nend\t")
    if not sep or f"{zlib.crc32(body.encode('utf-8', 'surrogateescape')):08x}" != trailer:
        return None
    lines = body.split("\n")
    if lines[0] != _MAGIC or lines[1] != "key\t" + key.replace("\n", "\\n"):
        return None
    written = int(lines[2].split("\t")[1])
    stamps, recs = [], []
    for line in lines[3:]:
        tag, *fields = line.split("\t")
        if tag == "stamp":
            stamps.append((fields[0], int(fields[1])))
        elif tag == "ep":
            recs.append(EPRecord(*fields))
    if any(m >= written - _RACY_NS for _, m in stamps):
        return None
    return Index(key, tuple(stamps), tuple(recs), "cache")


def _encode(index: Index) -> str | None:
    rows = [_MAGIC, "key\t" + index.key.replace("\n", "\\n"), f"written\t{time.time_ns()}"]
    rows += [f"stamp\t{p}\t{m}" for p, m in index.stamps]
    rows += ["ep\t" + "\t".join(r) for r in index.records]
    if any(("\t" in f or "\n" in f) for r in index.records for f in r) or any(
        "\t" in p or "\n" in p for p, _ in index.stamps
    ):
        return None  # a field the format cannot hold: do without the cache
    body = "\n".join(rows)
    return f"{body}\nend\t{zlib.crc32(body.encode('utf-8', 'surrogateescape')):08x}\n"


def write_cache(path: str, index: Index) -> bool:
    text = _encode(index)
    if text is None:
        return False
    tmp = f"{path}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8", "surrogateescape"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return True
    except OSError:
        _silent_unlink(tmp)
        return False


def _silent_unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
