"""Plugins that try to pass as built-ins, take names through aliases, register
into other kinds later, or race a rescan (docs/reliability.md).

Real pip-installed distributions and real plugin files, in the isolated world
of ``codex_ml.registry.testing``.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from _support import make_package, pip_install, write

import codex_ml.registry as core
from codex_ml.registry import metric_registry, model_registry
from codex_ml.registry.testing import isolated

IMPOSTOR = {"impostor_mod.py": "def fake(preds, targets):\n    return -1.0\n"}
SNEAKY = {
    "alias_mod.py": """
        def score(preds, targets):
            return 2.0

        def hooked(preds, targets):
            return 3.0

        def register(register_fn):
            register_fn("hooked", hooked, aliases=("gamma",))
        """,
    "threader.py": """
        import threading
        from codex_ml.registry import register_metric

        def _smuggle():
            register_metric("thread-smuggled", lambda p, t: 0.0)

        _t = threading.Thread(target=_smuggle)
        _t.start()
        _t.join()

        class Model:
            def forward(self, x):
                return x
        """,
    "smuggler.py": """
        from codex_ml.registry import register_metric

        class Model:
            def forward(self, x):
                register_metric("later-smuggled", lambda p, t: 0.0)
                return x

        def build(**kwargs):
            register_metric("factory-smuggled", lambda p, t: 0.0)
            return Model()
        """,
}


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    site = root / "site"
    impostor = make_package(root, "codex-ml", {"codex_ml.metrics": {
        "exact_match": "impostor_mod:fake", "impostor-metric": "impostor_mod:fake",
        "accuracy@token": "codex_ml.registry._names:normalise"}}, IMPOSTOR, version="99.0")
    sneaky = make_package(root, "sneaky-plugins", {
        "codex_ml.metrics": {"beta-alias": "alias_mod:score", "gamma": "alias_mod:score",
                             "alias-hook": "alias_mod:register"},
        "codex_ml.models": {"threaded": "threader:Model", "factory-smuggler": "smuggler:build"},
    }, SNEAKY)
    return pip_install(impostor, site, sneaky)


def _quiet() -> warnings.catch_warnings:  # type: ignore[type-arg]
    ctx = warnings.catch_warnings(record=True)
    return ctx


# ------------------------------------------------------------ built-in means ours
def test_a_distribution_calling_itself_codex_ml_is_a_third_party_plugin(hostile_site: Path) -> None:
    with isolated(sys_path=[str(hostile_site)]), _quiet() as caught:
        warnings.simplefilter("always")
        names = metric_registry.list()
        assert "impostor-metric" in names
        meta = metric_registry.metadata("impostor-metric")
        assert meta["provenance"]["source"] == "entry-point" and meta["provenance"]["distribution"] == "codex-ml"
        exact = metric_registry.metadata("exact_match")
        assert exact["provenance"]["source"] == "built-in" and exact["target"].startswith("codex_ml.metrics")
        assert metric_registry.get("exact_match")(["a"], ["a"]) == 1.0
        report = metric_registry.report()
        assert any("'exact_match' from entry point" in s and "ignored" in s for s in report.shadowed)
        # an entry point into our own code under a built-in name: recorded, never raised
        assert metric_registry.metadata("accuracy@token")["provenance"]["source"] == "built-in"
        assert any("'accuracy@token'" in c and "keeping the first" in c for c in report.collisions)
        assert any("Plugin shadowed in metrics: 'exact_match'" in str(w.message) for w in caught)


@pytest.mark.parametrize("env", [{"CODEX_ML_PLUGINS_ALLOW": "toy-metric"}, {"CODEX_ML_PLUGINS_DISABLE": "codex-ml"}],
                         ids=["allow-list", "disable"])
def test_the_impostor_is_subject_to_allow_and_disable(hostile_site: Path, env: dict[str, str]) -> None:
    with isolated(sys_path=[str(hostile_site)], env=env), _quiet():
        names = metric_registry.list()
        assert "impostor-metric" not in names
        assert {"exact_match", "accuracy@token"} <= set(names)  # the real built-ins stay
        disabled = " ".join(metric_registry.report().disabled)
        assert "impostor-metric (codex-ml)" in disabled


# ------------------------------------------------------------ aliases are names
def test_plugin_name_equal_to_an_in_process_alias_loses_visibly(hostile_site: Path) -> None:
    def alpha(preds, targets):
        return 1.0

    with isolated(sys_path=[str(hostile_site)]), _quiet() as caught:
        warnings.simplefilter("always")
        metric_registry.register("alpha-metric", alpha, aliases=("beta-alias",))
        assert metric_registry.get("beta-alias") is alpha
        assert "beta-alias" not in metric_registry.list()  # the plugin's entry never took it
        shadowed = metric_registry.report().shadowed
        assert any("'beta-alias' from entry point codex_ml.metrics:beta-alias" in s and "ignored" in s
                   for s in shadowed), shadowed
        assert sum("'beta-alias' from entry point" in str(w.message) for w in caught) == 1


def test_in_process_alias_equal_to_a_plugin_name_takes_it_visibly(hostile_site: Path) -> None:
    def delta(preds, targets):
        return 4.0

    with isolated(sys_path=[str(hostile_site)]), _quiet():
        assert "gamma" in metric_registry.list()
        metric_registry.register("delta", delta, aliases=("gamma",))
        assert metric_registry.get("gamma") is delta and "gamma" not in metric_registry.list()
        assert any("an alias" not in s and "'gamma'" in s and "replaces" in s
                   for s in metric_registry.report().shadowed)


def test_plugin_alias_equal_to_another_plugin_name_is_a_recorded_collision(hostile_site: Path) -> None:
    with isolated(sys_path=[str(hostile_site)]), _quiet():
        report = core.init_metric_plugins()
        assert "hooked" in metric_registry.list()
        assert metric_registry.metadata("gamma")["provenance"]["entry_point"].startswith("codex_ml.metrics:gamma")
        assert any("'gamma'" in c and "keeping the first" in c for c in report.collisions), report.collisions
        assert report.failed == []


def test_two_in_process_registrations_still_collide_loudly() -> None:
    with isolated():
        metric_registry.register("one", len, aliases=("uno",))
        with pytest.raises(core.RegistryCollisionError, match="'uno' is already registered"):
            metric_registry.register("two", abs, aliases=("uno",))
        assert "two" not in metric_registry  # all or nothing


# ------------------------------------------------------- one kind stays one kind
def test_a_thread_started_by_a_plugin_cannot_register_into_another_kind(hostile_site: Path) -> None:
    with isolated(sys_path=[str(hostile_site)]), _quiet() as caught:
        warnings.simplefilter("always")
        assert model_registry.get("threaded") is not None
        assert "thread-smuggled" not in metric_registry.list()
        assert any("thread-smuggled" in str(w.message) and "Refused a registration" in str(w.message)
                   for w in caught)


def test_a_factory_or_method_of_a_plugin_cannot_register_into_another_kind_later(hostile_site: Path) -> None:
    with isolated(sys_path=[str(hostile_site)]), _quiet():
        model = model_registry.create("factory-smuggler")
        model.forward(1)
        names = metric_registry.list()
        assert "factory-smuggled" not in names and "later-smuggled" not in names
        failed = {f.name: f.cause for f in metric_registry.report().failed}
        assert "factory-smuggled" in failed and "later-smuggled" in failed
        assert "a models plugin's own code, later" in failed["factory-smuggled"]


def test_a_plugin_registering_into_its_own_kind_later_is_still_a_plugin(hostile_site: Path) -> None:
    with isolated(sys_path=[str(hostile_site)]), _quiet():
        model_registry.get("threaded")
        import threader  # type: ignore[import-not-found]

        model_registry.register("late-model", threader.Model)  # user code: in-process
        assert model_registry.metadata("late-model")["provenance"]["source"] == "in-process"


# --------------------------------------------------------------- rescans
@contextmanager
def readers(check: Callable[[], None], n: int) -> Iterator[list[str]]:
    """``n`` threads run ``check()`` in a loop while the block runs; what they raised is collected."""
    errors: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
                errors.append(repr(exc))

    threads = [threading.Thread(target=loop) for _ in range(n)]
    for t in threads:
        t.start()
    try:
        yield errors
    finally:
        stop.set()
        for t in threads:
            t.join()


PLUGIN_FILE = "from codex_ml.registry import register_metric\nregister_metric({name!r}, lambda p, t=None: {value})\n"


def test_rescans_never_hide_unchanged_components(installed_examples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    write(folder / "steady.py", PLUGIN_FILE.format(name="steady", value=1.0))
    env = {"CODEX_ML_PLUGIN_PATH": str(folder)}
    with isolated(sys_path=[str(installed_examples)], env=env), _quiet():
        warnings.simplefilter("ignore")
        core.init_metric_plugins()  # hooks ran: 'toy_weighted_accuracy' is a hook's name
        stable = {"steady", "toy_metric", "toy_weighted_accuracy", "exact_match"}
        assert stable <= set(metric_registry.list())
        def check() -> None:
            names = metric_registry.list()
            missing = stable - set(names)
            if missing:
                raise AssertionError(f"list() lost {missing}")
            for name in names:
                if name not in metric_registry or metric_registry.get(name) is None:
                    raise AssertionError(f"{name} listed but not found")
            for name in stable:
                metric_registry[name]

        with readers(check, 4) as errors:
            for i in range(6):
                write(folder / f"added_{i}.py", PLUGIN_FILE.format(name=f"added-{i}", value=float(i)))
                os.utime(folder / "steady.py")  # touched, not changed
                metric_registry.refresh()
                core.discover_plugins(force=True)
                core.init_metric_plugins(force=True)
                time.sleep(0.01)
        assert errors == []
        assert {f"added-{i}" for i in range(6)} <= set(metric_registry.list())


def test_auto_refresh_rescans_while_readers_read(installed_examples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    write(folder / "steady.py", PLUGIN_FILE.format(name="steady", value=1.0))
    env = {"CODEX_ML_PLUGIN_PATH": str(folder), "CODEX_ML_REGISTRY_AUTO_REFRESH": "1"}
    with isolated(sys_path=[str(installed_examples)], env=env), _quiet():
        warnings.simplefilter("ignore")
        assert metric_registry.get("steady") is not None
        def check() -> None:
            if metric_registry.get("steady") is None or metric_registry.get("toy_metric") is None:
                raise AssertionError("lost")

        with readers(check, 3) as errors:
            for i in range(4):
                write(folder / f"new_{i}.py", PLUGIN_FILE.format(name=f"new-{i}", value=float(i)))
                deadline = time.monotonic() + 10
                while f"new-{i}" not in metric_registry.list() and time.monotonic() < deadline:
                    time.sleep(0.01)
        assert errors == []
        assert {f"new-{i}" for i in range(4)} <= set(metric_registry.list())
