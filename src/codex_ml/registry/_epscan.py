"""One pass over ``sys.path``: every distribution's entry points, as ``importlib.metadata`` sees them.

Only a scan (a cold start, or an environment that changed) reads these
files; a warm start reads the cache instead (``_epcache``).
"""

from __future__ import annotations

import os
import sys
import time

from . import _epindex
from ._epcache import stamp
from ._names import normalise, validate_name
from ._table import Listing

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from . import _epcache
    from ._epindex import Row


class _Scan:
    """One pass over ``sys.path``: rows per group, distributions, stamps."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.rows: dict[str, list[Row]] = {}
        self.dists: list[tuple[str, str]] = []
        self.dist_stamps: list[_epcache.Stamp | None] = []
        self.stamps: list[_epcache.Stamp] = []

    def add(self, name: str, version: str, entries: Iterable[tuple[str, str, str]],
            own_stamp: _epcache.Stamp | None = None) -> None:
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


def build(key: str) -> _epindex.Index:
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
    return _epindex.Index(key, tuple(scan.stamps), taken, "scan", rows, tuple(scan.dists), dist_stamps=tuple(scan.dist_stamps))


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


def _read_stamped(path: str) -> tuple[str, _epcache.Stamp]:
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


def derive_listing(rows: Sequence[tuple[str, str, int]], hooks_allowed: bool) -> Listing:
    """The listing of one group's rows (see ``Listing``)."""
    from ._discovery import is_hook_target

    hooks, invalid, dupes, first = [], [], [], {}
    for number, (name, value, _) in enumerate(rows):
        if hooks_allowed and is_hook_target(value):
            hooks.append(number)
            continue
        try:
            shown = validate_name(name, "entry point")
        except ValueError:
            invalid.append(number)
            continue
        key = normalise(shown)
        if key in first:
            dupes.append(number)
        else:
            first[key] = (key, shown, number)
    ordered = sorted(first.values())
    return Listing([n for _, n, _ in ordered], [k for k, _, _ in ordered], [str(i) for _, _, i in ordered],
               tuple(hooks), tuple(invalid), tuple(dupes))
