"""Entry-point discovery with real pip-installed distributions in fresh interpreters."""

from __future__ import annotations

from pathlib import Path

import pytest
from _support import env_with, make_package, pip_install, run_json, run_py


def test_factory_entry_points_are_listed_without_import(installed_examples: Path, tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    out = run_json("""
        import json, os, sys
        from codex_ml.registry import metric_registry, model_registry, tokenizer_registry
        names = {"metrics": metric_registry.list(), "models": model_registry.list(),
                 "tokenizers": tokenizer_registry.list()}
        log = os.environ["CODEX_TOY_IMPORT_LOG"]
        before = open(log).read() if os.path.exists(log) else ""
        model = model_registry.create("toy-linear", weight=3.0)
        after = open(log).read()
        print(json.dumps({"names": names, "before": before, "after": after,
                          "y": model.forward([1.0, 2.0]), "torch": "torch" in sys.modules}))
    """, env=env_with(installed_examples, CODEX_TOY_IMPORT_LOG=str(log)))
    assert "toy_metric" in out["names"]["metrics"]
    assert "toy-linear" in out["names"]["models"] and "toy" in out["names"]["tokenizers"]
    assert out["before"] == ""  # list() imported no plugin module
    assert out["after"] == "toy_model\n"  # create() imported exactly the one asked for
    assert out["y"] == [3.0, 6.0] and out["torch"] is False


def test_hook_entry_point_runs_with_register_fn(installed_examples: Path) -> None:
    out = run_json("""
        import json
        from codex_ml.metrics.registry import get_metric, init_metric_plugins, list_metrics
        report = init_metric_plugins()
        again = init_metric_plugins()  # once per process
        fn = get_metric("toy_weighted_accuracy")
        print(json.dumps({"listed": "toy_weighted_accuracy" in list_metrics(),
                          "score": fn([1, 2, 3], [1, 2, 0], weights=[1, 1, 2]),
                          "loaded": report.loaded, "failed": [str(f) for f in report.failed],
                          "same": again.loaded == report.loaded}))
    """, env=env_with(installed_examples))
    assert out["listed"] and out["score"] == 0.5 and out["failed"] == [] and out["same"]
    assert any("toy-metric" in item for item in out["loaded"])


def test_hook_runs_on_lookup_miss(installed_examples: Path) -> None:
    out = run_json("""
        import json
        from codex_ml.registry import get_metric_metadata, metric_registry
        before = "toy_weighted_accuracy" in metric_registry.list()
        meta = get_metric_metadata("toy_weighted_accuracy")  # a miss runs the hooks
        print(json.dumps({"before": before, "dist": meta["provenance"]["distribution"],
                          "ep": meta["provenance"]["entry_point"]}))
    """, env=env_with(installed_examples))
    assert out == {"before": False, "dist": "toy-metric",
                   "ep": "codex_ml.metrics:weighted = toy_metric.hooks:register"}


def test_seed_000_tokenizer_hook_and_provenance(installed_examples: Path) -> None:
    out = run_json("""
        import json
        from codex_ml.registry.tokenizers import get_tokenizer, init_tokenizer_plugins
        init_tokenizer_plugins()
        tok = get_tokenizer("toy")
        ids = tok.encode("a b a")
        print(json.dumps({"ids": ids, "text": tok.decode(ids)}))
    """, env=env_with(installed_examples))
    assert out == {"ids": [1, 2, 1], "text": "a b a"}


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One good and several broken plugins, each a real installed distribution."""
    root = tmp_path_factory.mktemp("broken")
    site = root / "site"
    project = make_package(root, "mixed-plugins", {
        "codex_ml.metrics": {
            "good": "mixed_good:score",
            "import-fails": "mixed_bad_import:score",
            "raises": "mixed_raises:score",
            "exits": "mixed_exits:score",
            "missing-attr": "mixed_good:no_such_function",
            "bad hook": "mixed_bad_hook:register",
        }}, {
        "mixed_good.py": "def score(p, t=None):\n    return 1.0\n",
        "mixed_bad_import.py": "import definitely_not_installed_module\n",
        "mixed_raises.py": "raise RuntimeError('plugin exploded on import')\n",
        "mixed_exits.py": "import sys\nsys.exit(3)\n",
        "mixed_bad_hook.py": "def register(register_fn):\n    raise ValueError('hook failed')\n",
    })
    return pip_install(project, site)


def test_broken_plugins_never_break_the_others(broken_site: Path) -> None:
    out = run_json("""
        import json, warnings
        from codex_ml.registry import RegistryLoadError, metric_registry
        results = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = metric_registry.discover()
            for name in ["import-fails", "raises", "exits", "missing-attr"]:
                for attempt in range(2):
                    try:
                        metric_registry.get(name)
                    except RegistryLoadError as exc:
                        results[name] = [type(exc.__cause__).__name__, str(exc)]
        print(json.dumps({"good": metric_registry.get("good")([1]), "results": results,
                          "failed": sorted(f.name for f in report.failed),
                          "warnings": [str(w.message) for w in caught]}))
    """, env=env_with(broken_site))
    assert out["good"] == 1.0
    assert out["results"]["import-fails"][0] == "ModuleNotFoundError"
    assert out["results"]["raises"][0] == "RuntimeError"
    assert "plugin exploded on import" in out["results"]["raises"][1]
    assert out["results"]["exits"][0] == "SystemExit"
    assert out["results"]["missing-attr"][0] == "AttributeError"
    assert "mixed-plugins" in out["results"]["raises"][1]
    assert out["failed"] == ["bad hook", "exits", "import-fails", "missing-attr", "raises"]
    # warned once per broken plugin, even though each was asked for twice
    assert len([w for w in out["warnings"] if "mixed_raises" in w]) == 1


def test_strict_mode_turns_failures_into_errors(broken_site: Path) -> None:
    proc = run_py("""
        from codex_ml.metrics.registry import init_metric_plugins
        init_metric_plugins()
    """, env=env_with(broken_site, CODEX_ML_PLUGINS_STRICT="1"), check=False)
    assert proc.returncode == 1 and "RegistryLoadError" in proc.stderr


def test_allow_and_disable_lists(broken_site: Path, installed_examples: Path) -> None:
    code = """
        import json
        from codex_ml.registry import metric_registry
        print(json.dumps(metric_registry.list()))
    """
    disabled = run_json(code, env=env_with(broken_site, installed_examples,
                                           CODEX_ML_PLUGINS_DISABLE="mixed-plugins"))
    assert "good" not in disabled and "toy_metric" in disabled
    allowed = run_json(code, env=env_with(broken_site, installed_examples,
                                          CODEX_ML_PLUGINS_ALLOW="codex_ml.metrics:good"))
    assert "good" in allowed and "toy_metric" not in allowed and "raises" not in allowed
    assert "exact_match" in allowed  # built-ins are never filtered


def test_model_registry_disable_flag() -> None:
    out = run_json("""
        import json
        from codex_ml.models.loader_registry import registry_disabled
        print(json.dumps(registry_disabled()))
    """, env=env_with(CODEX_MODEL_REGISTRY_DISABLE="1"))
    assert out is True


def test_auto_refresh_sees_new_distribution(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    project = make_package(tmp_path, "late-plugin", {"codex_ml.metrics": {"late": "late_mod:score"}},
                           {"late_mod.py": "def score(p, t=None):\n    return 7.0\n"})
    out = run_json(f"""
        import json, subprocess, sys, time
        from codex_ml.registry import metric_registry
        before = "late" in metric_registry.list()
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        "--no-build-isolation", "--no-index", "--target", {str(site)!r},
                        {str(project)!r}], check=True, capture_output=True)
        after = "late" in metric_registry.list()
        print(json.dumps({{"before": before, "after": after, "value": metric_registry.get("late")([])}}))
    """, env=env_with(site, CODEX_ML_REGISTRY_AUTO_REFRESH="1"))
    assert out == {"before": False, "after": True, "value": 7.0}
