"""The core imports only the standard library (a subprocess guards the budget)."""

from __future__ import annotations

from pathlib import Path

from _support import run_json

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
