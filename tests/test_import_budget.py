"""The core imports only the standard library (a subprocess guards the budget)."""

from __future__ import annotations

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
