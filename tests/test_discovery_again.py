"""Discovery run again: ``init_*_plugins(force=True)``, mocked entry points, auto-discovery
turned back on, and hooks whose registration is shadowed (docs/guides/entry_points.md).

Plugins are real distributions (a ``*.dist-info`` folder on a ``sys.path`` entry);
the only stand-in is a patched ``importlib.metadata.entry_points``, where the
stand-in is the feature under test.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from _support import env_with, write

from codex_ml.registry import (
    PluginWarning,
    RegistryCollisionError,
    RegistryLoadError,
    UnknownComponentError,
    metric_registry,
)
from codex_ml.registry.testing import isolated

GROUP = "codex_ml.metrics"


def dist(site: Path, name: str, entry_points: str, modules: dict[str, str]) -> Path:
    """A distribution ``name`` 1.0 installed in ``site``: its metadata, entry points and modules."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    write(info / "METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    write(info / "entry_points.txt", entry_points)
    for rel, code in modules.items():
        write(site / rel, code)
    return site


MOCKABLE = "VALUE = 1\nNAMES = ['mock_metric']\n\n\ndef register(register_fn):\n" \
           "    for name in NAMES:\n        register_fn(name, lambda value=VALUE, **kw: value)\n"


@pytest.fixture
def probe_site(tmp_path: Path) -> Path:
    return dist(tmp_path / "site", "probe-dist", f"[{GROUP}]\nmockable = probe_pkg.mockable:register\n", {
        "probe_pkg/__init__.py": "", "probe_pkg/mockable.py": MOCKABLE})


# ------------------------------------------------------------ force=True
def test_force_replaces_what_a_hook_registered_before_without_a_collision(probe_site: Path) -> None:
    from codex_ml.metrics.registry import get_metric, init_metric_plugins

    with isolated(sys_path=[str(probe_site)]), warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)  # a collision with itself would warn
        init_metric_plugins()
        assert get_metric("mock_metric")() == 1
        sys.modules["probe_pkg.mockable"].VALUE = 2  # type: ignore[attr-defined]
        report = init_metric_plugins(force=True)
        assert get_metric("mock_metric")() == 2
        assert report.loaded == ["mockable (probe-dist)"] and report.collisions == [] and report.ok
        sys.modules["probe_pkg.mockable"].VALUE = 3  # type: ignore[attr-defined]
        strict = init_metric_plugins(force=True, strict=True)
        assert strict.ok and get_metric("mock_metric")() == 3


def test_forced_discoveries_from_two_threads_never_hide_a_hooks_name(tmp_path: Path) -> None:
    import threading

    from codex_ml.metrics.registry import init_metric_plugins

    site = dist(tmp_path / "site", "two-names", f"[{GROUP}]\nboth = two_names\n", {"two_names.py": (
        "def register(register_fn):\n    for name in ('mock_metric', 'mock_other'):\n"
        "        register_fn(name, lambda p, t=None: 1.0)\n")})
    misses: list[str] = []
    stop = threading.Event()

    def force() -> None:
        for _ in range(150):
            init_metric_plugins(force=True)

    def read() -> None:
        while not stop.is_set():
            if "mock_metric" not in metric_registry.list() or metric_registry.get("mock_metric") is None:
                misses.append("mock_metric")

    with isolated(sys_path=[str(site)]), warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        init_metric_plugins()
        forcers = [threading.Thread(target=force) for _ in range(2)]
        readers = [threading.Thread(target=read) for _ in range(2)]
        switch = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)  # switch threads often: the race shows at once
        try:
            for t in forcers + readers:
                t.start()
            for t in forcers:
                t.join(120)
        finally:
            stop.set()
            sys.setswitchinterval(switch)
        for t in readers:
            t.join(30)
    assert misses == []  # each forced run starts over alone; a name stays visible until registered again


def test_force_drops_a_name_the_hook_no_longer_registers_and_keeps_in_process_ones(probe_site: Path) -> None:
    from codex_ml.metrics.registry import get_metric, init_metric_plugins, register_metric

    def mine(**kw: object) -> str:
        return "mine"

    with isolated(sys_path=[str(probe_site)]), warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        module: Any = importlib.import_module("probe_pkg.mockable")
        module.NAMES = ["mock_metric", "mock_gone", "mine"]
        register_metric("mine", mine)
        init_metric_plugins()
        assert "mock_gone" in metric_registry.list()
        module.NAMES = ["mock_metric", "mine"]
        report = init_metric_plugins(force=True)
        assert "mock_gone" not in metric_registry.list()
        assert get_metric("mine") is mine  # in-process registrations stay and keep precedence
        assert any("'mine'" in s and "ignored" in s for s in report.shadowed)


def test_strict_collision_of_two_plugins_says_so(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist(site, "first-dist", f"[{GROUP}]\ndup = first_mod:score\n", {"first_mod.py": "def score(**kw): return 1\n"})
    dist(site, "second-dist", f"[{GROUP}]\ndup = second_mod:score\n", {"second_mod.py": "def score(**kw): return 2\n"})
    with isolated(sys_path=[str(site)], env={"CODEX_ML_PLUGINS_STRICT": "1"}), \
            pytest.raises(RegistryCollisionError, match=(
                r"^metric name 'dup' is registered by two plugins: entry point codex_ml.metrics:dup = \S+ of "
                r"distribution \S+ 1.0 \(found first\) and entry point codex_ml.metrics:dup = \S+ of distribution "
                r"\S+ 1.0; strict mode \(strict=True or CODEX_ML_PLUGINS_STRICT=1\) refuses the collision. Fix: uninstall or "
                r"disable one of them \(CODEX_ML_PLUGINS_DISABLE=<distribution>\)")) as info:
        metric_registry.list()
    assert "already registered" not in str(info.value) and "keeping the first" not in str(info.value)


# ------------------------------------------------------- mocked entry points
def fake_entry_points(*eps: md.EntryPoint) -> object:
    real = md.entry_points
    calls: list[str] = []

    def entry_points(**params: str) -> object:
        if params.get("group") == GROUP:
            calls.append(GROUP)
            return md.EntryPoints(eps)
        return real(**params)

    entry_points.calls = calls  # type: ignore[attr-defined]
    return entry_points


def test_mocked_entry_points_are_listed_and_loaded_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.metrics.registry import get_metric, init_metric_plugins

    code = tmp_path / "code"
    write(code / "mocked_metric.py", "def score(**kw):\n    return 42\n")
    write(code / "mocked_hook.py", "def register(register_fn):\n    register_fn('hooked', lambda **kw: 7)\n")
    fake = fake_entry_points(md.EntryPoint("mocked", "mocked_metric:score", GROUP),
                             md.EntryPoint("helper", "mocked_hook:register", GROUP),
                             md.EntryPoint("bad name!", "mocked_metric:score", GROUP))
    with isolated(sys_path=[str(code)]), warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        init_metric_plugins()
        monkeypatch.setattr(md, "entry_points", fake)
        report = init_metric_plugins(force=True)
        assert {"mocked", "hooked"} <= set(metric_registry.list())
        assert get_metric("mocked")() == 42 and get_metric("hooked")() == 7
        prov = metric_registry.metadata("mocked")["provenance"]
        assert prov["summary"] == "entry point codex_ml.metrics:mocked = mocked_metric:score (distribution unknown)"
        assert "helper (distribution unknown)" in report.loaded
        assert [f.name for f in report.failed] == ["bad name!"]
        assert "invalid metric name 'bad name!'" in report.failed[0].cause
        calls = len(fake.calls)  # type: ignore[attr-defined]
        init_metric_plugins(force=True)
        assert len(fake.calls) > calls  # type: ignore[attr-defined]  # read again, never cached
        monkeypatch.undo()
        init_metric_plugins(force=True)
        assert "mocked" not in metric_registry.list() and "hooked" not in metric_registry.list()


def test_a_stand_in_made_with_functools_wraps_is_still_a_stand_in(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    from codex_ml.metrics.registry import init_metric_plugins

    write(tmp_path / "code" / "wrapped_metric.py", "def score(**kw):\n    return 1\n")
    fake = functools.wraps(md.entry_points)(fake_entry_points(md.EntryPoint("wrapped", "wrapped_metric:score", GROUP)))
    with isolated(sys_path=[str(tmp_path / "code")]):
        monkeypatch.setattr(md, "entry_points", fake)  # its name, module and qualname are the stdlib's
        init_metric_plugins(force=True)
        assert "wrapped" in metric_registry.list()


def test_a_stand_in_that_fails_leaves_the_built_ins_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.metrics.registry import init_metric_plugins

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("boom")

    with isolated():
        monkeypatch.setattr(md, "entry_points", broken)
        with pytest.warns(PluginWarning, match=r"^entry point group 'codex_ml.metrics': the patched "
                          r"importlib.metadata.entry_points \(.*\) failed with RuntimeError: boom; its entry "
                          r"points are left out\. Fix the stand-in"):
            init_metric_plugins(force=True)
        assert metric_registry["ppl"] is not None and "ppl" in metric_registry.list()


def test_a_mocked_factory_is_imported_only_when_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.metrics.registry import init_metric_plugins

    write(tmp_path / "code" / "lazy_mocked.py", "def score(**kw):\n    return 5\n")
    monkeypatch.setattr(md, "entry_points", fake_entry_points(md.EntryPoint("lazy", "lazy_mocked:score", GROUP)))
    with isolated(sys_path=[str(tmp_path / "code")]):
        init_metric_plugins(force=True)  # discovery loads every factory: a listing alone must not
        metric_registry.forget_discovery()
        assert "lazy" in metric_registry.list()
        sys.modules.pop("lazy_mocked", None)
        assert "lazy" in metric_registry.list() and "lazy_mocked" not in sys.modules
        assert metric_registry["lazy"]() == 5 and "lazy_mocked" in sys.modules


def test_unpatched_entry_points_read_the_index() -> None:
    from codex_ml.registry import _epindex

    assert md.entry_points.__module__ == "importlib.metadata"
    assert _epindex._index(GROUP) is _epindex.current()


# ---------------------------------------------------- auto-discovery back on
def test_turning_auto_discovery_back_on_discovers_on_the_next_list(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.registry import list_metrics, set_auto_discover

    write(tmp_path / "plugins" / "x.py",
          "from codex_ml.registry import register_metric\nregister_metric('metric_cwd', lambda **kw: 1)\n")
    monkeypatch.chdir(tmp_path)
    with isolated():
        set_auto_discover(False)
        assert "metric_cwd" not in list_metrics()
        assert metric_registry.get("metric_cwd") is None  # a miss while off discovers nothing either
        set_auto_discover(True)
        assert "metric_cwd" in list_metrics()


# ------------------------------------------------------- shadowed hook
@pytest.fixture
def shadow_site(tmp_path: Path) -> Path:
    return dist(tmp_path / "site", "shadow-dist", f"[{GROUP}]\noverride_ppl = shadow_hooks:override_ppl\n", {
        "shadow_hooks.py": "def override_ppl(register_fn):\n    register_fn('ppl', lambda **kw: 0)\n"})


def test_a_hook_whose_registration_is_shadowed_did_not_fail(shadow_site: Path) -> None:
    from codex_ml.metrics.registry import get_metric, init_metric_plugins

    with isolated(sys_path=[str(shadow_site)]):
        builtin = get_metric("ppl")
        with pytest.warns(PluginWarning, match=r"'ppl' from entry point \S+ = shadow_hooks:override_ppl of "
                                               r"distribution shadow-dist 1.0 ignored: built-in"):
            report = init_metric_plugins()
        assert report.failed == [] and report.loaded == ["override_ppl (shadow-dist)"]
        assert len(report.shadowed) == 1 and get_metric("ppl") is builtin
        assert init_metric_plugins(force=True, strict=True).failed == []
        assert metric_registry.get("override_ppl") is None and "override_ppl" not in metric_registry.list()


def test_asking_for_a_hooks_name_runs_it_and_says_what_it_registered(shadow_site: Path) -> None:
    with isolated(sys_path=[str(shadow_site)]), warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        assert "override_ppl" in metric_registry.list()  # a factory's name until it is imported
        for _ in range(2):  # the second lookup (the hook does not run again) says it too
            with pytest.raises(UnknownComponentError, match=r"unknown metric 'override_ppl'. Did you mean 'ppl'\?"):
                metric_registry["override_ppl"]
        assert metric_registry.failures() == []


def test_doctor_passes_with_a_shadowed_hook(shadow_site: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "codex_ml.cli.app", "doctor", "--timeout", "0"],
                          env=env_with(shadow_site), cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "override_ppl" not in proc.stdout.split("failed", 1)[-1].split("\n", 1)[0]


def test_strict_discovery_error_names_the_broken_plugin(tmp_path: Path) -> None:
    site = dist(tmp_path / "site", "broken-dist", f"[{GROUP}]\nbroken_hook = broken_hooks:register\n", {
        "broken_hooks.py": "def register(register_fn):\n    raise ValueError('hook failed')\n"})
    with isolated(sys_path=[str(site)]), warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        metric_registry.discover()
        with pytest.raises(RegistryLoadError, match=(
                r"^could not load metric 'broken_hook' from entry point codex_ml.metrics:broken_hook = "
                r"broken_hooks:register of distribution broken-dist 1.0: ValueError: hook failed\. Fix: ")) as info:
            metric_registry.discover(strict=True)
    assert isinstance(info.value.__cause__, ValueError)
