"""Settings are read once per environment, validated, warned about once; arguments win over them."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from _support import make_package, pip_install

import codex_ml.registry as core
from codex_ml.registry import RegistryLoadError, Settings, SettingsWarning, metric_registry
from codex_ml.registry._settings import current
from codex_ml.registry.testing import isolated


def test_an_unknown_variable_is_warned_once_with_the_closest_name() -> None:
    with isolated(env={"CODEX_ML_PLUGIN_PATHS": "/nowhere"}):
        with pytest.warns(SettingsWarning, match="CODEX_ML_PLUGIN_PATHS is not a variable codex_ml reads, so it "
                          "has no effect; did you mean CODEX_ML_PLUGIN_PATH?"):
            metric_registry.list()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            metric_registry.list()  # once per settings object


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_a_switch_that_is_not_a_switch_is_warned_and_ignored(value: str) -> None:
    with isolated(env={"CODEX_ML_PLUGINS_STRICT": value}), pytest.warns(
            SettingsWarning, match=f"CODEX_ML_PLUGINS_STRICT='{value}' is not a switch .*using the default \\(off\\)"):
        assert current().strict is False


def test_an_ineffective_combination_is_warned() -> None:
    with isolated(env={"CODEX_ML_CACHE": "0", "CODEX_ML_CACHE_DIR": "/tmp/x"}), pytest.warns(
            SettingsWarning, match="CODEX_ML_CACHE_DIR has no effect while CODEX_ML_CACHE=0"):
        current()


def test_every_variable_is_parsed_in_one_place() -> None:
    env = {"CODEX_ML_PLUGIN_PATH": os.pathsep.join(["a", "", "b"]), "CODEX_ML_PLUGINS_ALLOW": "x, y;z",
           "CODEX_ML_PLUGINS_DISABLE": " w ", "CODEX_ML_REGISTRY_AUTO_REFRESH": "yes",
           "CODEX_MODEL_REGISTRY_DISABLE": "on", "CODEX_ML_PLUGINS_STRICT": "TRUE", "CODEX_ML_GPT2_PATH": "/m"}
    settings = Settings(env)
    assert settings.plugin_path == ["a", "b"] and settings.allow == ("x", "y", "z") and settings.disable == ("w",)
    assert settings.auto_refresh and settings.model_registry_disabled and settings.strict
    assert settings.problems == []  # the catalogue's per-model variables are known too
    assert Settings({}).plugin_path is None and Settings({}).cache is True


def test_a_changed_variable_takes_effect_at_the_next_access(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    with isolated():
        assert core.registry_disabled() is False
        monkeypatch.setenv("CODEX_MODEL_REGISTRY_DISABLE", "1")
        assert core.registry_disabled() is True  # no reset needed: a test's setenv is seen
        monkeypatch.delenv("CODEX_MODEL_REGISTRY_DISABLE")
        assert core.registry_disabled() is False
        assert "late-metric" not in metric_registry
        folder = tmp_path / "late-plugins"
        folder.mkdir(mode=0o755)
        (folder / "late.py").write_text("from codex_ml.registry import register_metric\n"
                                        "register_metric('late-metric', lambda p, t=None: 1.0)\n")
        monkeypatch.setenv("CODEX_ML_PLUGIN_PATH", str(folder))
        core.discover_plugins(force=True)  # the new folder, without a reset
        assert "late-metric" in metric_registry


def test_settings_are_built_once_while_the_environment_stays_the_same() -> None:
    with isolated():
        assert current() is current()
        os.environ["CODEX_ML_PLUGINS_STRICT"] = "1"
        changed = current()
        assert changed.strict is True and current() is changed


@pytest.fixture(scope="module")
def one_broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("strict")
    project = make_package(root, "one-broken", {"codex_ml.metrics": {"broken-one": "broken_one:score"}},
                           {"broken_one.py": "raise ValueError('broken on purpose')\n"})
    return pip_install(project, root / "site")


def test_strict_false_wins_over_the_environment(one_broken: Path) -> None:
    with isolated(sys_path=[str(one_broken)], env={"CODEX_ML_PLUGINS_STRICT": "1"}), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = core.init_metric_plugins(strict=False)
        assert [f.name for f in report.failed] == ["broken-one"]
        assert "ValueError: broken on purpose" in report.failed[0].cause


def test_strict_true_wins_over_the_environment(one_broken: Path) -> None:
    with isolated(sys_path=[str(one_broken)], env={"CODEX_ML_PLUGINS_STRICT": "0"}), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RegistryLoadError, match="broken-one.*ValueError: broken on purpose"):
            core.init_metric_plugins(strict=True)
        assert core.init_metric_plugins().failed  # without the argument: the environment (off)


def test_a_command_chooses_settings_without_touching_the_environment() -> None:
    from codex_ml.registry._settings import overridden

    with isolated(env={"CODEX_ML_PLUGINS_STRICT": "1"}):
        with overridden(strict=False) as chosen:
            assert chosen.strict is False and current() is chosen
            assert os.environ["CODEX_ML_PLUGINS_STRICT"] == "1"
        assert current().strict is True


@pytest.fixture(scope="module")
def broken_with_hook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A broken metric and a hook that calls ``strict_probe.during_discover()`` while discovery runs it."""
    root = tmp_path_factory.mktemp("strict-thread")
    hook = "import sys\n\ndef register(register_fn):\n    sys.modules['strict_probe'].during_discover()\n"
    project = make_package(root, "broken-with-hook", {"codex_ml.metrics": {
        "broken-two": "broken_two:score", "bad!two": "broken_two:score", "probe": "broken_two_hook:register"}},
        {"broken_two.py": "raise ValueError('broken on purpose')\n", "broken_two_hook.py": hook})
    return pip_install(project, root / "site")


def test_strict_given_to_discover_reaches_only_its_own_thread(broken_with_hook: Path) -> None:
    """``discover(strict=True)`` in one thread never makes another thread strict (a rescan there)."""
    import sys
    import threading
    import types

    import time

    outcome: dict[str, str] = {}
    workers: list[threading.Thread] = []

    def other_thread() -> None:  # a rescan records 'bad!two' again: the environment says not strict
        try:
            metric_registry.refresh()
            outcome["other"] = "refreshed"
        except RegistryLoadError as exc:
            outcome["other"] = f"raised: {exc}"

    def during_discover() -> None:  # the hook runs this inside discover(strict=True)
        failed = metric_registry.source.report.failed
        before = len(failed)
        workers.append(threading.Thread(target=other_thread))
        workers[0].start()
        deadline = time.monotonic() + 60
        # Wait until the other thread's rescan recorded its failure (or ended); it then waits for
        # this hook to return before running hooks itself, so joining it here would deadlock.
        while len(failed) == before and workers[0].is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)

    sys.modules["strict_probe"] = types.SimpleNamespace(during_discover=during_discover)  # type: ignore[assignment]
    try:
        with isolated(sys_path=[str(broken_with_hook)], env={"CODEX_ML_PLUGINS_STRICT": "0"}), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert "broken-two" in metric_registry.list()  # scanned, not strict: 'bad!two' recorded
            with pytest.raises(RegistryLoadError, match="broken-two.*ValueError: broken on purpose"):
                metric_registry.discover(strict=True)
    finally:
        del sys.modules["strict_probe"]
        for worker in workers:
            worker.join(60)
    assert outcome == {"other": "refreshed"}
