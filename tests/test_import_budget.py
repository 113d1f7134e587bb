"""The core imports only the standard library (a subprocess guards the budget)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from _support import env_with, run_json

ONLY_STDLIB = """
    import json, sys
    before = set(sys.modules)
    import codex_ml.registry
    from codex_ml.registry import {what}
    {action}
    new = set(sys.modules) - before
    third = sorted(m for m in new if m.split(".")[0] not in sys.stdlib_module_names
                   and not m.startswith("codex_ml") and not m.startswith("_"))
    print(json.dumps(third))
"""


def test_importing_the_core_imports_no_third_party_module() -> None:
    assert run_json(ONLY_STDLIB.format(what="model_registry", action="pass")) == []


def test_listing_every_registry_imports_no_third_party_module() -> None:
    action = "[r.list() for r in all_registries()]; [r.metadata(n) for r in all_registries() for n in r.list()]"
    assert run_json(ONLY_STDLIB.format(what="all_registries", action=action)) == []


LISTING_MODULES = """
    import json, sys
    import codex_ml
    package_only = sorted(m for m in sys.modules if m.startswith("codex_ml"))
    from codex_ml.registry import Registry
    Registry("bench", entry_point_group="codex_ml.metrics", publish=False).list()
    listing = sorted(m for m in sys.modules if m.startswith("codex_ml.registry._"))
    models = codex_ml.registry.list_models()  # the attribute path works after a bare import
    print(json.dumps({"package_only": package_only, "models": models, "listing": listing}))
"""


def test_import_codex_ml_is_the_package_and_a_listing_loads_only_what_it_reads(tmp_path: Path) -> None:
    out = run_json(LISTING_MODULES, cwd=tmp_path)  # an empty folder: no ./plugins to import
    assert out["package_only"] == ["codex_ml", "codex_ml.registry"]  # every name loads on first use
    assert "decoder_only" in out["models"]  # the built-in registries come with the catalogue
    # Listing reads no error class, search, snapshot, precedence, interface or plugin-file code.
    for unused in ("_search", "_snapshot", "_precedence", "_interfaces", "_fsafe", "_plugindirs", "_kinds"):
        assert f"codex_ml.registry.{unused}" not in out["listing"], out["listing"]


WARM_LISTING = """
    import json, sys
    before = set(sys.modules)
    from codex_ml.registry import Registry
    names = Registry("bench", entry_point_group="codex_ml.metrics", publish=False).list()
    new = sorted(set(sys.modules) - before)
    from codex_ml.registry import _epindex
    print(json.dumps({"new": new, "source": _epindex.current().source, "names": names}))
"""
# What a listing from a warm index imports, and nothing more (docs/guides/entry_points.md, "The index
# cache"): the registry's Source, names, registration, entries, reports, plugin folders (there are none
# here), scanning and cache writing all wait for a lookup or a change.
WARM_MODULES = ["codex_ml.registry._epcache", "codex_ml.registry._epindex", "codex_ml.registry._registry",
                "codex_ml.registry._settings", "codex_ml.registry._table"]


def test_a_warm_listing_imports_only_the_listing_path_and_no_stdlib_module(tmp_path: Path) -> None:
    cwd, site = tmp_path / "cwd", tmp_path / "site"
    info = site / "warm_metric-1.0.dist-info"
    for folder in (cwd, info):
        folder.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: warm-metric\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[codex_ml.metrics]\nwarm-accuracy = warm_metric:score\n")
    past = time.time() - 60
    for path in (cwd, site, info, info / "entry_points.txt"):
        os.utime(path, (past, past))
    time.sleep(0.06)  # out of the racy window of the folders' ctimes
    env = env_with(site, CODEX_ML_CACHE="1", CODEX_ML_CACHE_DIR=str(tmp_path / "cache"))
    cold = run_json(WARM_LISTING, env=env, cwd=cwd)
    warm = run_json(WARM_LISTING, env=env, cwd=cwd)
    assert (cold["source"], warm["source"]) == ("scan", "cache")
    assert warm["names"] == cold["names"] == ["warm-accuracy"]
    ours = [m for m in warm["new"] if m.startswith("codex_ml.registry.")]
    assert ours == WARM_MODULES
    # Beyond the interpreter's own start-up, only ``__future__`` (every module's first line): no zlib,
    # warnings, typing, re, enum, dataclasses or functools.
    assert {m for m in warm["new"] if not m.startswith("codex_ml")} <= {"__future__"}, warm["new"]
