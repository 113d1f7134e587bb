"""Entry-point discovery with real pip-installed distributions, in-process.

Each test runs in a fresh, isolated registry world (``codex_ml.registry.testing``):
the same first-access behaviour as a new interpreter, without starting one.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
from _support import make_package, pip_install

from codex_ml.registry import RegistryLoadError, metric_registry, model_registry, tokenizer_registry
from codex_ml.registry.testing import isolated


def test_factory_entry_points_are_listed_without_import(installed_examples: Path, tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    with isolated(sys_path=[str(installed_examples)], env={"CODEX_TOY_IMPORT_LOG": str(log)}):
        names = {"metrics": metric_registry.list(), "models": model_registry.list(),
                 "tokenizers": tokenizer_registry.list()}
        before = log.read_text() if log.exists() else ""
        model = model_registry.create("toy-linear", weight=3.0)
        after = log.read_text()
        assert not any(m.startswith("toy_") for m in set(sys.modules) - {"toy_model"})
    assert "toy_metric" in names["metrics"]
    assert "toy-linear" in names["models"] and "toy" in names["tokenizers"]
    assert before == ""  # list() imported no plugin module
    assert after == "toy_model\n"  # create() imported exactly the one asked for
    assert model.forward([1.0, 2.0]) == [3.0, 6.0]


def test_hook_entry_point_runs_with_register_fn(installed_examples: Path) -> None:
    from codex_ml.metrics.registry import get_metric, init_metric_plugins, list_metrics

    with isolated(sys_path=[str(installed_examples)]):
        report = init_metric_plugins()
        again = init_metric_plugins()  # once per process
        fn = get_metric("toy_weighted_accuracy")
        assert "toy_weighted_accuracy" in list_metrics()
        assert fn([1, 2, 3], [1, 2, 0], weights=[1, 1, 2]) == 0.5
        assert report.failed == [] and again.loaded == report.loaded
        assert any("toy-metric" in item for item in report.loaded)


def test_hook_runs_on_lookup_miss(installed_examples: Path) -> None:
    from codex_ml.registry import get_metric_metadata

    with isolated(sys_path=[str(installed_examples)]):
        assert "toy_weighted_accuracy" not in metric_registry.list()
        meta = get_metric_metadata("toy_weighted_accuracy")  # a miss runs the hooks
    assert meta["provenance"]["distribution"] == "toy-metric"
    assert meta["provenance"]["entry_point"] == "codex_ml.metrics:weighted = toy_metric.hooks:register"


def test_seed_000_tokenizer_hook_and_provenance(installed_examples: Path) -> None:
    from codex_ml.registry.tokenizers import get_tokenizer, init_tokenizer_plugins

    with isolated(sys_path=[str(installed_examples)]):
        init_tokenizer_plugins()
        tok = get_tokenizer("toy")
        ids = tok.encode("a b a")
        assert (ids, tok.decode(ids)) == ([1, 2, 1], "a b a")


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
    results = {}
    with isolated(sys_path=[str(broken_site)]), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = metric_registry.discover()
        for name in ["import-fails", "raises", "exits", "missing-attr"]:
            for _attempt in range(2):
                with pytest.raises(RegistryLoadError) as info:
                    metric_registry.get(name)
                results[name] = [type(info.value.__cause__).__name__, str(info.value)]
        assert metric_registry.get("good")([1]) == 1.0
    assert results["import-fails"][0] == "ModuleNotFoundError"
    assert results["raises"][0] == "RuntimeError"
    assert "plugin exploded on import" in results["raises"][1]
    assert results["exits"][0] == "SystemExit"
    assert results["missing-attr"][0] == "AttributeError"
    assert "mixed-plugins" in results["raises"][1]
    assert sorted(f.name for f in report.failed) == ["bad hook", "exits", "import-fails", "missing-attr", "raises"]
    # warned once per broken plugin, even though each was asked for twice
    assert len([w for w in caught if "mixed_raises" in str(w.message)]) == 1


def test_strict_mode_turns_failures_into_errors(broken_site: Path) -> None:
    from codex_ml.metrics.registry import init_metric_plugins

    with isolated(sys_path=[str(broken_site)], env={"CODEX_ML_PLUGINS_STRICT": "1"}), \
            warnings.catch_warnings(), pytest.raises(RegistryLoadError, match="could not load metric"):
        warnings.simplefilter("ignore")
        init_metric_plugins()


@pytest.mark.parametrize("env, present, absent", [
    ({"CODEX_ML_PLUGINS_DISABLE": "mixed-plugins"}, ["toy_metric", "exact_match"], ["good"]),
    ({"CODEX_ML_PLUGINS_ALLOW": "codex_ml.metrics:good"}, ["good", "exact_match"], ["toy_metric", "raises"]),
], ids=["disable", "allow"])
def test_allow_and_disable_lists(broken_site: Path, installed_examples: Path, env: dict[str, str],
                                 present: list[str], absent: list[str]) -> None:
    with isolated(sys_path=[str(broken_site), str(installed_examples)], env=env):
        names = metric_registry.list()
    assert set(present) <= set(names)  # built-ins are never filtered
    assert not set(absent) & set(names)


def test_model_registry_disable_flag() -> None:
    from codex_ml.models.loader_registry import registry_disabled

    with isolated(env={"CODEX_MODEL_REGISTRY_DISABLE": "1"}):
        assert registry_disabled() is True
    assert registry_disabled() is False


def test_auto_refresh_sees_new_distribution(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    project = make_package(tmp_path, "late-plugin", {"codex_ml.metrics": {"late": "late_mod:score"}},
                           {"late_mod.py": "def score(p, t=None):\n    return 7.0\n"})
    with isolated(sys_path=[str(site)], env={"CODEX_ML_REGISTRY_AUTO_REFRESH": "1"}):
        assert "late" not in metric_registry.list()
        pip_install(project, site)  # a real install while the process runs
        assert "late" in metric_registry.list()
        assert metric_registry.get("late")([]) == 7.0
