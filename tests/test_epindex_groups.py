"""Registries on any entry-point group, listed from the index without building Entry objects."""

from __future__ import annotations

import importlib.metadata as md
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import installed_on_path, make_package

from codex_ml.registry import InvalidNameError, PluginWarning, Registry, _epindex
from codex_ml.registry._names import normalise


def _expected(group: str) -> dict[str, md.EntryPoint]:
    """What importlib.metadata lists: the first entry point of each normalised name."""
    first: dict[str, md.EntryPoint] = {}
    for ep in md.entry_points(group=group):
        first.setdefault(normalise(ep.name), ep)
    return first


@pytest.mark.parametrize("group", ["console_scripts", "pytest11"])
def test_registry_on_a_foreign_group_lists_what_importlib_metadata_lists(group: str) -> None:
    """pip, pytest plugins and codex-ml itself declare these groups in the test venv."""
    _epindex.invalidate()
    expected = _expected(group)
    assert expected, f"no distribution declares {group} here"
    reg: Registry[object] = Registry(group.replace("1", ""), entry_point_group=group, publish=False)
    assert {normalise(n) for n in reg.list()} == set(expected)
    assert len(reg) == len(expected)
    for ep in expected.values():
        assert ep.name in reg
        assert reg.entry(ep.name).target == ep.value


def test_foreign_targets_load_exactly_as_importlib_metadata_loads_them() -> None:
    scripts: Registry[object] = Registry("scripts", entry_point_group="console_scripts", publish=False)
    assert scripts.get("pip") is _expected("console_scripts")["pip"].load()
    plugins: Registry[object] = Registry("pytest_plugins", entry_point_group="pytest11", publish=False)
    ep = _expected("pytest11")["hypothesispytest"]  # a module target: the module itself, not a hook
    assert ":" not in ep.value
    assert plugins.get("hypothesispytest") is ep.load() is sys.modules[ep.value]
    assert plugins.report().loaded == [] and plugins.pending_hooks() == []


@pytest.fixture
def widget_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real distribution declaring a group of its own: valid, module-target and rejected names."""
    project = make_package(tmp_path, "acme-widgets", {"acme.widgets": {
        "Spinner": "acme_widgets:Spinner", "whole_module": "acme_widgets", "bad!name": "acme_widgets:Spinner",
        "register_all": "acme_widgets:register_all"}},
        {"acme_widgets.py": "class Spinner:\n    pass\n\ndef register_all(register_fn):\n    raise AssertionError\n"})
    yield from installed_on_path(project, tmp_path, monkeypatch, "acme_widgets")


def test_names_our_rules_reject_are_reported_not_dropped(widget_site: Path) -> None:
    reg: Registry[object] = Registry("widgets", entry_point_group="acme.widgets", publish=False)
    assert {ep.name for ep in md.entry_points(group="acme.widgets")} == {
        "Spinner", "whole_module", "bad!name", "register_all"}
    with pytest.warns(PluginWarning, match=r"bad!name .*character '!' is not allowed"):
        assert reg.list() == ["register_all", "Spinner", "whole_module"]
    failed = reg.report().failed
    assert [f.name for f in failed] == ["bad!name"] and isinstance(failed[0].error, InvalidNameError)
    assert "acme-widgets" in str(failed[0]) and "'!'" in str(failed[0])
    assert reg.get("whole_module") is sys.modules["acme_widgets"]
    assert reg.get("register_all") is sys.modules["acme_widgets"].register_all  # not a hook here


def test_listing_builds_no_entry_until_a_name_is_looked_up(widget_site: Path) -> None:
    reg: Registry[object] = Registry("widgets", entry_point_group="acme.widgets", publish=False)
    assert reg.list() == ["register_all", "Spinner", "whole_module"] and len(reg) == 3
    assert "spinner" in reg and "whole-module" in reg and "nothing" not in reg
    assert reg.search("spin") == ["Spinner"]
    assert list(reg._table.entries) == []  # served from the index as plain strings
    assert "acme_widgets" not in sys.modules
    meta = reg.metadata("Spinner")  # its details: now (and only now) an Entry
    assert meta["version"] == "0.1.0" and meta["provenance"]["distribution"] == "acme-widgets"
    assert list(reg._table.entries) == ["spinner"] and "acme_widgets" not in sys.modules
    assert reg.list() == ["register_all", "Spinner", "whole_module"]


def test_in_process_name_and_entry_point_of_one_name_keep_precedence(widget_site: Path) -> None:
    reg: Registry[object] = Registry("widgets", entry_point_group="acme.widgets", publish=False)
    reg.list()

    class Mine:
        pass

    reg.register("spinner", Mine)  # in-process outranks a plugin, and the shadowing is recorded
    assert reg.get("Spinner") is Mine and reg.list() == ["register_all", "spinner", "whole_module"]
    assert any("acme-widgets" in s for s in reg.report().shadowed)
    reg.unregister("spinner")
    assert "spinner" not in reg and reg.list() == ["register_all", "whole_module"]
