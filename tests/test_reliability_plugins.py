"""Broken plugins never break the application (issue 6, part 1).

Every fault is a REAL installed distribution (``pip install --target``) or a
real plugin file, loaded by a fresh interpreter. One matrix site holds one
plugin per fault next to healthy plugins; the tests check, for each fault,
that the application keeps working, that every other plugin loads, that
``codex-ml doctor`` names the plugin and the cause, and that asking for the
broken component raises ``RegistryLoadError`` with the original exception as
``__cause__``. This extends tests/test_entry_points.py (which covers the
basic ImportError/RuntimeError/sys.exit/missing-attribute cases) rather than
repeating it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from _support import env_with, make_package, pip_install, run_json

from codex_ml.registry.testing import isolated

BUILTIN_METRICS = {"accuracy@token", "ppl", "exact_match", "f1", "dist-1", "dist-2",
                   "offline:weighted-accuracy"}

MATRIX_HOOKS = '''
from codex_ml.registry import register_model


def score(predictions, targets=None):
    return 2.0


def register_raises(register_fn):
    raise LookupError("hook could not find its table")


def register_invalid(register_fn):
    register_fn("has space", score)


def register_cross(register_fn):
    register_model("sneaky-model", lambda **kw: None)


def register_shadow(register_fn):
    register_fn("exact_match", score)


def register_override(register_fn):
    register_fn("dist-2", score, override=True)


def register_good(register_fn):
    register_fn("hook-good-metric", score)


def register_recursive(register_fn):
    from codex_ml.registry import discover_all, init_metric_plugins, metric_registry
    init_metric_plugins()
    metric_registry.list(resolve=True)
    discover_all()
    metric_registry.get("good")
    metric_registry.get("no-such-metric-anywhere")
    register_fn("recursive-hook-metric", score)


def register_bad_model(register_fn):
    class NoForwardFromHook:
        pass
    register_fn("hook-no-forward", NoForwardFromHook)
'''

RECURSIVE_FACTORY = '''
from codex_ml.registry import discover_all, init_metric_plugins, list_metrics, metric_registry

init_metric_plugins()
list_metrics()
metric_registry.list(resolve=True)
discover_all()
metric_registry.get("good")


def score(predictions, targets=None):
    return 3.0
'''

MODELS = '''
class NoForward:
    def __init__(self, **kwargs):
        pass


class Thing:
    pass


def build_no_forward(**kwargs):
    return Thing()


class GoodModel:
    def __init__(self, **kwargs):
        pass

    def forward(self, x):
        return x
'''

CROSS_IMPORT = '''
from codex_ml.registry import register_metric

register_metric("smuggled-metric", lambda predictions, targets=None: 9.0)


class Model:
    def forward(self, x):
        return x
'''

GOOD_BUNDLE = '''
from codex_ml.registry import register_metric, register_model

register_metric("bundle-metric", lambda predictions, targets=None: 4.0)


class BundleModel:
    def forward(self, x):
        return x


register_model("bundle-model", BundleModel)
'''

# (registry kind, name asked for) -> (type of __cause__, text the cause must contain)
BROKEN: dict[tuple[str, str], tuple[str, str]] = {
    ("metric", "import-error"): ("ImportError", "matrix needs libfoo >= 2"),
    ("metric", "syntax-error"): ("SyntaxError", "matrix_syntax.py, line 1"),
    ("metric", "value-error"): ("ValueError", "bad plugin configuration in matrix_value_error"),
    ("metric", "custom-error"): ("PluginBroke", "custom exception class"),
    ("metric", "exits-zero"): ("SystemExit", "0"),
    ("metric", "missing-module"): ("ModuleNotFoundError", "No module named 'matrix_nowhere'"),
    ("metric", "missing-attr"): ("AttributeError", "no_such_function"),
    ("metric", "hook-raises"): ("LookupError", "hook could not find its table"),
    ("metric", "bad!name"): ("InvalidNameError", "character '!' is not allowed"),
    ("metric", "invalid-hook"): ("InvalidNameError", "invalid metric name 'has space'"),
    ("metric", "cross-kind"): ("RegistryLoadError", "registered model 'sneaky-model' from a metrics entry point"),
    ("model", "no-forward"): ("InterfaceError", "Model class NoForward"),
    ("model", "bad-model-hook"): ("InterfaceError", "Model class NoForwardFromHook"),
}

# Healthy plugins that must load whatever their neighbours do: (kind, name, how to call it)
HEALTHY = [("metric", "good"), ("metric", "hook-good-metric"), ("metric", "recursive-hook-metric"),
           ("metric", "recursive"), ("metric", "bundle-metric"), ("model", "good-model"),
           ("model", "cross-import"), ("model", "bundle-model"), ("metric", "toy_metric"),
           ("metric", "toy_weighted_accuracy"), ("model", "toy-linear"), ("tokenizer", "toy"),
           ("trainer", "toy-trainer"), ("data_loader", "toy-numbers")]


@pytest.fixture(scope="module")
def matrix_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One distribution per fault, plus a rival distribution that reuses two names."""
    root = tmp_path_factory.mktemp("matrix")
    site = root / "site"
    project = make_package(root, "matrix-plugins", {
        "codex_ml.metrics": {
            "good": "matrix_good:score",
            "import-error": "matrix_import_error:score",
            "syntax-error": "matrix_syntax:score",
            "value-error": "matrix_value_error:score",
            "custom-error": "matrix_custom:score",
            "exits-zero": "matrix_exit_zero:score",
            "missing-module": "matrix_nowhere:score",
            "missing-attr": "matrix_good:no_such_function",
            "bad!name": "matrix_good:score",
            "hook-raises": "matrix_hooks:register_raises",
            "invalid-hook": "matrix_hooks:register_invalid",
            "cross-kind": "matrix_hooks:register_cross",
            "exact_match": "matrix_good:fake_exact_match",
            "shadow-hook": "matrix_hooks:register_shadow",
            "override-hook": "matrix_hooks:register_override",
            "hook-good": "matrix_hooks:register_good",
            "recursive": "matrix_recursive:score",
            "recursive-hook": "matrix_hooks:register_recursive",
        },
        "codex_ml.models": {
            "no-forward": "matrix_models:NoForward",
            "factory-no-forward": "matrix_models:build_no_forward",
            "good-model": "matrix_models:GoodModel",
            "cross-import": "matrix_cross_import:Model",
            "bad-model-hook": "matrix_hooks:register_bad_model",
        },
        "codex_ml.plugins": {
            "broken-bundle": "matrix_bundle_broken",
            "good-bundle": "matrix_bundle_good",
        }}, {
        "matrix_good.py": "def score(predictions, targets=None):\n    return 1.0\n\n\n"
                          "def fake_exact_match(predictions, targets=None):\n    return -1.0\n",
        "matrix_import_error.py": "raise ImportError('matrix needs libfoo >= 2')\n",
        "matrix_syntax.py": "def score(predictions, targets=None:\n    return 1.0\n",
        "matrix_value_error.py": "raise ValueError('bad plugin configuration in matrix_value_error')\n",
        "matrix_custom.py": "class PluginBroke(Exception):\n    pass\n\n\n"
                            "raise PluginBroke('custom exception class from a plugin')\n",
        "matrix_exit_zero.py": "import sys\n\nsys.exit(0)\n",
        "matrix_hooks.py": MATRIX_HOOKS,
        "matrix_recursive.py": RECURSIVE_FACTORY,
        "matrix_models.py": MODELS,
        "matrix_cross_import.py": CROSS_IMPORT,
        "matrix_bundle_broken.py": "raise RuntimeError('bundle exploded on import')\n",
        "matrix_bundle_good.py": GOOD_BUNDLE,
    })
    rival = make_package(root, "rival-plugins", {"codex_ml.metrics": {"good": "rival_mod:score"}},
                         {"rival_mod.py": "def score(predictions, targets=None):\n    return 99.0\n"})
    return pip_install(project, site, rival)


PROBE = """
    import io, json, warnings
    from codex_ml import registry as R

    def cause_of(exc):
        c = exc.__cause__
        return None if c is None else [type(c).__name__, str(c)]

    out = {"broken": {}, "healthy": {}, "other": {}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reports = {r.kind: r for r in R.discover_all()}
        for kind, name in BROKEN:
            reg = getattr(R, kind + "_registry")
            for attempt in range(2):  # asked twice: the same error, warned once
                try:
                    reg[name]
                    out["broken"][name] = "loaded"
                except R.RegistryLoadError as exc:
                    out["broken"][name] = [type(exc).__name__, str(exc), cause_of(exc)]
                except Exception as exc:
                    out["broken"][name] = [type(exc).__name__, str(exc), None]
        for kind, name in HEALTHY:
            reg = getattr(R, kind + "_registry")
            try:
                obj = reg[name]
                out["healthy"][name] = getattr(obj, "__module__", type(obj).__module__)
            except Exception as exc:
                out["healthy"][name] = "FAILED " + type(exc).__name__ + ": " + str(exc)
        m, models = R.metric_registry, R.model_registry
        out["other"]["good"] = m["good"]([1], [1])
        out["other"]["exact_match_module"] = m["exact_match"].__module__
        out["other"]["exact_match_value"] = R.get_metric("exact_match")(["a b"], ["a b"])
        out["other"]["dist2_module"] = m["dist-2"].__module__
        out["other"]["recursive"] = m["recursive"]([], [])
        try:
            models.create("factory-no-forward")
        except Exception as exc:
            out["other"]["factory_no_forward"] = [type(exc).__name__, isinstance(exc, TypeError), str(exc)]
        out["other"]["sneaky_listed"] = "sneaky-model" in models.list(resolve=True)
        out["other"]["smuggled_listed"] = "smuggled-metric" in m.list(resolve=True)
        out["other"]["has_space_listed"] = any(" " in n for n in m.list(resolve=True))
        out["other"]["metrics"] = m.list(resolve=True)
        buf = io.StringIO()
        R.print_registry_summary(buf)
        out["other"]["summary_lines"] = len(buf.getvalue().splitlines())
    out["reports"] = {k: {"failed": sorted({f.name for f in r.failed}), "shadowed": r.shadowed,
                          "collisions": r.collisions, "loaded": r.loaded}
                      for k, r in reports.items()}
    out["warnings"] = [str(w.message) for w in caught if w.category.__name__ == "PluginWarning"]
"""


@pytest.fixture(scope="module")
def matrix(matrix_site: Path, installed_examples: Path) -> dict[str, Any]:
    """Discover everything once, ask for every component; the JSON the probe printed."""
    namespace: dict[str, Any] = {"BROKEN": [list(k) for k in BROKEN], "HEALTHY": [list(h) for h in HEALTHY]}
    with isolated(sys_path=[str(matrix_site), str(installed_examples)]):
        exec(textwrap.dedent(PROBE), namespace)  # noqa: S102 - in-process, in the isolated world
    return json.loads(json.dumps(namespace["out"]))  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind, name", list(BROKEN), ids=[n for _, n in BROKEN])
def test_broken_component_raises_load_error_with_original_cause(matrix: dict[str, Any], kind: str,
                                                                 name: str) -> None:
    cause_type, cause_text = BROKEN[(kind, name)]
    error, message, cause = matrix["broken"][name]
    assert error == "RegistryLoadError", message
    assert cause is not None and cause[0] == cause_type, cause
    assert cause_text in cause[1] or cause_text in message
    # the message names the component, the distribution, and what to do
    assert repr(name) in message and "matrix-plugins" in message
    assert "CODEX_ML_PLUGINS_DISABLE" in message and "codex-ml doctor" in message


def test_every_healthy_plugin_loads_next_to_the_broken_ones(matrix: dict[str, Any]) -> None:
    failed = {n: v for n, v in matrix["healthy"].items() if str(v).startswith("FAILED")}
    assert failed == {}
    assert matrix["other"]["good"] == 1.0
    assert matrix["other"]["recursive"] == 3.0  # discovery called from its own import: loads
    assert BUILTIN_METRICS <= set(matrix["other"]["metrics"])
    assert matrix["other"]["summary_lines"] > 20  # print_registry_summary still works


def test_every_failure_is_recorded_and_warned_once(matrix: dict[str, Any]) -> None:
    failed = set(matrix["reports"]["metrics"]["failed"]) | set(matrix["reports"]["models"]["failed"])
    assert {name for _, name in BROKEN} <= failed
    assert "broken-bundle" in failed  # bundle failures show in every kind's report
    for name in ["import-error", "syntax-error", "value-error", "custom-error", "exits-zero",
                 "hook-raises", "bad!name", "no-forward"]:
        hits = [w for w in matrix["warnings"] if f"plugin {name} (" in w]
        assert len(hits) == 1, (name, hits)  # asked for twice, warned once


def test_plugin_never_shadows_a_builtin_silently(matrix: dict[str, Any]) -> None:
    # an entry point and a hook both named exact_match: the built-in wins
    assert matrix["other"]["exact_match_module"] == "codex_ml.metrics.squad"
    assert matrix["other"]["exact_match_value"] == 1.0
    shadowed = matrix["reports"]["metrics"]["shadowed"]
    assert any("'exact_match' from entry point codex_ml.metrics:exact_match" in s
               and "ignored: built-in codex_ml.metrics.squad:exact_match takes precedence" in s
               for s in shadowed), shadowed
    assert any("codex_ml.metrics:shadow-hook" in s and "ignored" in s for s in shadowed)
    # override=True is the documented way to replace one, and it is recorded too
    assert matrix["other"]["dist2_module"] == "matrix_hooks"
    assert any("'dist-2' from entry point codex_ml.metrics:override-hook" in s and "replaces" in s
               for s in shadowed), shadowed


def test_two_distributions_with_one_name_collide_visibly(matrix: dict[str, Any]) -> None:
    collisions = matrix["reports"]["metrics"]["collisions"]
    assert any("'good'" in c and "rival-plugins" in c and "matrix-plugins" in c and "keeping the first" in c
               for c in collisions), collisions
    assert matrix["other"]["good"] == 1.0  # the first on sys.path keeps it, deterministically


def test_registering_into_another_kind_is_refused(matrix: dict[str, Any]) -> None:
    assert matrix["other"]["sneaky_listed"] is False  # from a metrics hook into models
    assert matrix["other"]["smuggled_listed"] is False  # from a models factory's import into metrics
    assert any("Refused a registration" in w and "sneaky-model" in w for w in matrix["warnings"])
    assert any("Refused a registration" in w and "smuggled-metric" in w for w in matrix["warnings"])


def test_cross_kind_refusal_from_a_factory_import_is_recorded(matrix: dict[str, Any]) -> None:
    recorded = json.dumps(matrix["reports"])
    assert "smuggled-metric" in recorded


def test_invalid_names_are_never_registered(matrix: dict[str, Any]) -> None:
    assert matrix["other"]["has_space_listed"] is False
    assert "bad!name" not in matrix["other"]["metrics"]


def test_factory_returning_object_without_forward_is_refused(matrix: dict[str, Any]) -> None:
    name, is_type_error, message = matrix["other"]["factory_no_forward"]
    assert name == "InterfaceError" and is_type_error
    assert "Model class Thing (returned by entry point codex_ml.models:factory-no-forward" in message
    assert "must implement forward() method" in message


def _doctor(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codex_ml.cli.app", "doctor", *extra], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_doctor_names_every_broken_plugin_and_its_cause(matrix_site: Path) -> None:
    pytest.importorskip("typer")
    env = env_with(matrix_site)
    proc = _doctor(env, "--json")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    causes = {f["name"]: f["cause"] for f in data["failures"]}
    for (_, name), (cause_type, _) in BROKEN.items():
        assert name in causes, (name, sorted(causes))
        assert causes[name].startswith(cause_type + ":") or causes[name] == cause_type, causes[name]
    assert causes["broken-bundle"] == "RuntimeError: bundle exploded on import"
    assert all(f["distribution"] == "matrix-plugins" for f in data["failures"])
    assert any("'good'" in c["message"] and "rival-plugins" in c["message"] for c in data["collisions"])
    assert any("exact_match" in s["message"] for s in data["shadowed"])
    # the human view names them too, one line each, without a traceback
    text = _doctor(env)
    assert text.returncode == 1 and "Traceback" not in text.stdout + text.stderr
    for name in ["import-error", "syntax-error", "hook-raises", "bad!name", "no-forward", "broken-bundle"]:
        assert any(name in line and "FAILED" in line for line in text.stdout.splitlines()), name
    assert "ImportError: matrix needs libfoo >= 2" in text.stdout


def test_doctor_is_clean_without_the_broken_distribution(matrix_site: Path) -> None:
    pytest.importorskip("typer")
    proc = _doctor(env_with(matrix_site, CODEX_ML_PLUGINS_DISABLE="matrix-plugins"), "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["ok"] is True and data["failures"] == []
    assert any("matrix-plugins" in d["message"] for d in data["disabled"])


def test_strict_mode_fails_on_a_collision(matrix_site: Path) -> None:
    from codex_ml.registry import RegistryCollisionError, metric_registry

    env = {"CODEX_ML_PLUGINS_STRICT": "1", "CODEX_ML_PLUGINS_ALLOW": "codex_ml.metrics:good"}
    with isolated(sys_path=[str(matrix_site)], env=env), warnings.catch_warnings(), \
            pytest.raises(RegistryCollisionError, match="'good'.*rival-plugins"):
        warnings.simplefilter("ignore")
        metric_registry.list()


# --------------------------------------------------- recursion into discovery
@pytest.fixture(scope="module")
def force_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hook that calls ``init_metric_plugins(force=True)`` from inside its own run."""
    root = tmp_path_factory.mktemp("force")
    project = make_package(root, "force-plugin", {"codex_ml.metrics": {
        "force-hook": "force_hooks:register", "neighbour": "force_neighbour:score"}}, {
        "force_hooks.py": "from codex_ml.registry import init_metric_plugins\n\n\n"
                          "def score(predictions, targets=None):\n    return 5.0\n\n\n"
                          "def register(register_fn):\n    init_metric_plugins(force=True)\n"
                          "    register_fn('force-metric', score)\n",
        "force_neighbour.py": "def score(predictions, targets=None):\n    return 6.0\n",
    })
    return pip_install(project, root / "site")


FORCE_PROBE = """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    sys.setrecursionlimit(LIMIT)
    from codex_ml.registry import metric_registry
    report = metric_registry.discover()
    print(json.dumps({"names": metric_registry.list(), "failed": [f.cause for f in report.failed]}))
"""


def test_hook_forcing_rediscovery_from_its_own_run_loses_nothing(force_site: Path) -> None:
    for limit in (150, 400, 1000):  # where the recursion breaks decides what survives
        result: Any = run_json(FORCE_PROBE.replace("LIMIT", str(limit)), env=env_with(force_site))
        assert BUILTIN_METRICS | {"neighbour", "force-metric"} <= set(result["names"]), (limit, result)
        assert not any("RecursionError" in c for c in result["failed"]), (limit, result)


def test_plugin_file_recursing_into_discovery_keeps_every_plugin(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    root.mkdir(mode=0o755)
    model = "from codex_ml.registry import register_model\n\n\nclass M:\n    def forward(self, x):\n" \
            "        return {v!r}\n\n\nregister_model({v!r}, M)\n"
    (root / "a_first.py").write_text(model.format(v="pd-first"))
    (root / "m_recursive.py").write_text(
        "from codex_ml.registry import (discover_all, discover_plugins, init_model_plugins, list_models,\n"
        "                               model_registry, reset_discovery)\n"
        "list_models()\ndiscover_plugins(force=True)\ndiscover_all(force=True)\n"
        "init_model_plugins(force=True)\nmodel_registry.get('pd-first')\nmodel_registry.get('absent')\n"
        + model.format(v="pd-recursive"))
    (root / "z_last.py").write_text(model.format(v="pd-last"))
    for f in root.iterdir():
        f.chmod(0o644)
    from codex_ml.registry import discover_plugins, list_metrics, model_registry

    with isolated(env={"CODEX_ML_PLUGIN_PATH": str(root)}), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = model_registry.list()
        report = discover_plugins()
        assert {"pd-first", "pd-recursive", "pd-last", "minilm"} <= set(names)
        assert report.failed == {} and len(list_metrics()) >= len(BUILTIN_METRICS)


# ------------------------------------------------------------ KeyboardInterrupt
@pytest.fixture(scope="module")
def interrupt_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("interrupt")
    sites = {}
    for style, eps, modules in [
        ("factory", {"codex_ml.metrics": {"ki-factory": "ki_factory:score"}},
         {"ki_factory.py": "raise KeyboardInterrupt\n"}),
        ("hook", {"codex_ml.metrics": {"ki-hook": "ki_hook:register"}},
         {"ki_hook.py": "def register(register_fn):\n    raise KeyboardInterrupt\n"}),
        ("bundle", {"codex_ml.plugins": {"ki-bundle": "ki_bundle"}},
         {"ki_bundle.py": "raise KeyboardInterrupt\n"}),
    ]:
        sites[style] = pip_install(make_package(root, f"ki-{style}", eps, modules), root / style)
    return sites


@pytest.mark.parametrize("style", ["factory", "hook", "bundle", "file"])
def test_keyboard_interrupt_from_a_plugin_is_never_swallowed(interrupt_sites: dict[str, Path],
                                                             tmp_path: Path, style: str) -> None:
    if style == "file":
        folder = tmp_path / "plugins"
        folder.mkdir(mode=0o755)
        (folder / "interrupt.py").write_text("raise KeyboardInterrupt\n")
        world = isolated(env={"CODEX_ML_PLUGIN_PATH": str(folder)})
    else:
        world = isolated(sys_path=[str(interrupt_sites[style])])
    from codex_ml.registry import discover_all, metric_registry, set_auto_discover

    with world:
        with pytest.raises(KeyboardInterrupt):
            discover_all()
            metric_registry.get("ki-factory")
        # the registry is still usable afterwards (plugin folders off: that file raises every time)
        set_auto_discover(False)
        assert "exact_match" in metric_registry.list()


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
@pytest.mark.slow
def test_ctrl_c_during_a_slow_plugin_import_stops_the_process(tmp_path: Path) -> None:
    """A real SIGINT while a plugin's import blocks: the process stops, it is not swallowed."""
    folder = tmp_path / "plugins"
    folder.mkdir(mode=0o755)
    marker = tmp_path / "importing"
    (folder / "slow.py").write_text(
        f"import pathlib, time\npathlib.Path({str(marker)!r}).write_text('x')\ntime.sleep(60)\n")
    code = textwrap.dedent("""
        from codex_ml.registry import metric_registry
        metric_registry.list()
        print("SWALLOWED", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env_with(CODEX_ML_PLUGIN_PATH=str(folder)),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the plugin was never imported: {proc.communicate(timeout=30)}")
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "SWALLOWED" not in out
    assert "KeyboardInterrupt" in err
    assert proc.returncode != 0
