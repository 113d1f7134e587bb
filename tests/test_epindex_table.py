"""The entry-point view inside a registry's table: built once per name, kept by snapshots and rescans."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import env_with, installed_on_path, make_package, run_json

from codex_ml.registry import PluginWarning, Registry

NAMES = [f"Gear{i:02d}" for i in range(40)]


@pytest.fixture
def gear_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real distribution with 40 entry points in a group of its own."""
    code = "".join(f"class {n}:\n    pass\n\n" for n in NAMES)
    project = make_package(tmp_path, "acme-gears", {"acme.gears": {n: f"acme_gears:{n}" for n in NAMES}},
                           {"acme_gears.py": code})
    yield from installed_on_path(project, tmp_path, monkeypatch, "acme_gears")


def _gears() -> Registry[object]:
    return Registry("gears", entry_point_group="acme.gears", publish=False)


def _race(reg: Registry[object]) -> tuple[list[BaseException], list[tuple[str, object]], list[list[str]]]:
    """Eight threads look up the same names (two halves of them) and list in between."""
    errors: list[BaseException] = []
    seen: list[tuple[str, object]] = []
    listings: list[list[str]] = []
    start = threading.Barrier(8)

    def work(i: int) -> None:
        start.wait()
        try:
            for name in NAMES[i::2]:
                seen.append((name, reg.entry(name.lower())))
                listings.append(reg.list())
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i % 2,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors, seen, listings


def test_threads_looking_up_one_name_build_one_entry_and_list_stays_whole(gear_site: Path) -> None:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, inside the building of an Entry too
    try:
        for _ in range(5):
            reg = _gears()
            assert reg.list() == NAMES and not reg._table.entries
            errors, seen, listings = _race(reg)
            assert errors == []  # a thread that finds a name another one is building waits for it
            by_name: dict[str, set[int]] = {}
            for name, entry in seen:
                by_name.setdefault(name, set()).add(id(entry))
            assert all(len(ids) == 1 for ids in by_name.values()) and len(by_name) == len(NAMES)
            assert all(listing == NAMES for listing in listings)  # never a name missing or twice mid-build
            assert sorted(reg._table.entries) == sorted(n.lower() for n in NAMES)
    finally:
        sys.setswitchinterval(interval)


def test_snapshot_restores_which_names_have_entries(gear_site: Path) -> None:
    reg = _gears()
    reg.list()
    with reg.snapshot():
        reg.entry("Gear03")

        class Mine:
            pass

        with pytest.warns(PluginWarning, match="'gear04' from .*Mine .* replaces entry point acme.gears:Gear04"):
            reg.register("gear04", Mine)  # in-process outranks the entry point of that name
        assert reg.get("Gear04") is Mine and set(reg._table.entries) == {"gear03", "gear04"}
    assert not reg._table.entries and reg.list() == NAMES
    assert reg.get("Gear04") is sys.modules["acme_gears"].Gear04


def test_refresh_keeps_built_entries_and_leaves_the_rest_unbuilt(gear_site: Path) -> None:
    reg = _gears()
    before = reg.entry("Gear07")
    reg.refresh()
    assert reg.entry("gear07") is before and list(reg._table.entries) == ["gear07"]
    assert reg.list() == NAMES and len(reg) == len(NAMES)


def test_unknown_name_suggests_entry_points_that_have_no_entry(gear_site: Path) -> None:
    reg = _gears()
    with pytest.raises(KeyError, match=r"'Gear7'\. Did you mean 'Gear\d7'.*Looked in: 40 registered gears"):
        reg["Gear7"]
    assert not reg._table.entries  # suggestions come from the names, not from built entries


def test_discover_builds_and_loads_every_entry_point(gear_site: Path) -> None:
    reg = _gears()
    report = reg.discover()
    assert len(report.loaded) == len(NAMES) and report.ok
    assert all(reg._table.entries[n.lower()].loaded for n in NAMES)


def test_a_first_listing_reads_the_index_and_a_lookup_then_scans_the_same_names(gear_site: Path) -> None:
    """Before any lookup, ``list()`` is the index's names as they are (no discovery state is built);
    the first lookup scans, and listing, counting and membership agree with what was listed."""
    reg = _gears()
    assert reg.list() == NAMES and len(reg) == len(NAMES)
    assert reg._source is None  # nothing but the index was read
    assert "gear07" in reg and reg._source is not None  # a lookup scans
    assert reg.list() == NAMES and reg.get("GEAR07").__name__ == "Gear07"
    # Something registered first: the scan decides (precedence, clashes), as it always does.
    mine = _gears()
    mine.register("aaa-mine", object(), factory=False)
    assert mine.list() == ["aaa-mine", *NAMES]
    assert mine._source is not None


PLUGGED = """
    import json
    from codex_ml.registry import Registry
    reg = Registry("gears_plugged", entry_point_group="acme.plugged")  # published: plugin files reach it
    print(json.dumps({"names": reg.list()}))
"""


def test_a_first_listing_imports_the_plugin_folder_before_it_lists(tmp_path: Path) -> None:
    """A plugin file that registers into the registry is imported before the first listing answers."""
    info = tmp_path / "site" / "acme_plugged-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugged\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[acme.plugged]\ngear-a = acme_plugged:GearA\n")
    (tmp_path / "cwd" / "plugins").mkdir(parents=True)
    (tmp_path / "cwd" / "plugins" / "extra.py").write_text(
        "from codex_ml.registry._directory import registries\n"
        "registries.get('gears_plugged').register('plugged-in', object(), factory=False)\n")
    out = run_json(PLUGGED, env=env_with(tmp_path / "site", CODEX_ML_CACHE="0"), cwd=tmp_path / "cwd")
    assert out["names"] == ["gear-a", "plugged-in"]


def test_two_threads_needing_a_cached_listings_keys_both_get_them() -> None:
    """A listing read from the cache reads its keys when first asked; lookups ask without the
    registry's lock, so a second thread must wait for the first one's read, not find nothing."""
    from codex_ml.registry._table import Listing

    reading, release = threading.Event(), threading.Event()
    full = Listing(["a", "b"], ["a", "b"], ["0", "1"], (), (), ())

    def more() -> Listing:
        reading.set()
        release.wait(10)
        return full

    listing = Listing(["a", "b"], None, None, (), (), (), more)
    results: list[object] = []

    def ask(question: str) -> None:
        try:
            results.append(listing.keys if question == "keys" else listing.position("b"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results.append(exc)

    first = threading.Thread(target=ask, args=("keys",))
    first.start()
    assert reading.wait(10)
    second = threading.Thread(target=ask, args=("position",))
    second.start()
    second.join(0.2)  # it waits for the first read (with the race, it failed here at once)
    release.set()
    first.join(10)
    second.join(10)
    assert sorted(map(repr, results)) == ["1", "['a', 'b']"]


def test_two_registries_on_one_group_load_the_right_entry_point_after_one_of_them_rescans(
        tmp_path: Path) -> None:
    """A distribution's entry_points.txt rewritten in place moves its rows; the registry whose
    lookup noticed rescans the shared index. The other registry must not read the new rows
    with its old row numbers (that gave it another entry point than the name it asked for)."""
    from codex_ml.registry import Registry
    from codex_ml.registry.testing import isolated

    site = tmp_path / "site"
    info = site / "shift_plug-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shift-plug\nVersion: 1.0\n")
    points = info / "entry_points.txt"
    points.write_text("[codex_ml.test_shift]\nalpha = shift_mod:ALPHA\nbeta = shift_mod:BETA\n")
    (site / "shift_mod.py").write_text("ALPHA, BETA, FIRST = 'alpha', 'beta', 'first'\n")
    with isolated(sys_path=[str(site)]):
        one, two = (Registry(f"shift {n}", entry_point_group="codex_ml.test_shift", factory=False,
                             publish=False) for n in ("one", "two"))
        assert "alpha" in one and "beta" in two  # each has its view of the group now
        points.write_text("[codex_ml.test_shift]\nfirst = shift_mod:FIRST\nalpha = shift_mod:ALPHA\n"
                          "beta = shift_mod:BETA\n")
        os.utime(points, ns=(1, 10**18))  # surely another stamp than the one scanned
        assert one.get("alpha") == "alpha"  # noticed the change: the index is rescanned
        assert two.get("beta") == "beta"
