"""A group's entry points from a patched ``importlib.metadata.entry_points``.

A test that replaces ``importlib.metadata.entry_points`` (``monkeypatch.setattr``,
``unittest.mock.patch``) means discovery to see what its function gives, so the
group is read from that function instead of the index, on every scan and never
cached (docs/guides/entry_points.md, "Testing with mocked entry points"). The
rows it gives go through the same name checks, provenance and lazy loading as
installed ones; an ``EntryPoint`` made without a distribution has none.
"""

from __future__ import annotations

from ._epindex import Index

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ._epindex import Row

SOURCE = "patched importlib.metadata.entry_points"


def index(entry_points: Callable[..., Any], group: str) -> Index:
    """An index holding only ``group``, as ``entry_points`` gives it now (empty, with a warning,
    when the stand-in fails: the built-in and in-process components stay usable)."""
    rows: list[Row] = []
    dists: dict[tuple[str, str], int] = {}
    try:
        found = selected(entry_points, group)
    except Exception as exc:  # noqa: BLE001 - a broken stand-in is reported, not raised
        from ._errors import warn_once

        warn_once(f"entry point group {group!r}: the {SOURCE} ({entry_points!r:.80}) failed with "
                  f"{type(exc).__name__}: {exc}; its entry points are left out. Fix the stand-in: it must "
                  "return EntryPoint objects for entry_points(group=...).", key=f"epmock:{group}:{exc}")
        found = []
    for ep in found:
        number = dists.setdefault(_dist_of(ep), len(dists))
        rows.append((str(ep.name), str(ep.value), number))
    return Index(SOURCE, (), 0, "patched", rows={group: tuple(rows)}, dists=tuple(dists))


def selected(entry_points: Callable[..., Any], group: str) -> list[Any]:
    """The entry points of ``group``: ``entry_points(group=...)``, or an old-style ``entry_points()[group]``."""
    try:
        found: Any = entry_points(group=group)
    except TypeError:  # a stand-in written for the old API, without a group= parameter
        found = entry_points()
    if isinstance(found, dict):
        found = found.get(group, ())
    return [ep for ep in _iterable(found) if getattr(ep, "group", group) == group]


def _iterable(found: Any) -> Iterable[Any]:
    if found is None:
        return ()
    return list(found)


def _dist_of(ep: Any) -> tuple[str, str]:
    """(name, version) of the entry point's distribution; ('', '') when it has none."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "", ""
    return str(getattr(dist, "name", "") or ""), str(getattr(dist, "version", "") or "")
