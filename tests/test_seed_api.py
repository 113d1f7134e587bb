"""The seed API gaps: registration by object, bare decorators, tool schemas at
registration, and ``reset_discovery()`` making the next access discover again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from _support import make_package, pip_install, write

import codex_ml.registry as core
from codex_ml.models import loader_registry
from codex_ml.plugins import registries
from codex_ml.registry import Registry, ToolSignatureError, model_registry, tool_registry
from codex_ml.registry.testing import isolated


# ------------------------------------------------------ register(obj)
def test_register_object_keys_by_id_then_name_then_dunder_name(fresh: Registry) -> None:
    class WithId:
        id = "by-id"
        name = "not-this"

    class WithName:
        name = "by-name"

    def by_function(): ...

    with_id, with_name = WithId(), WithName()
    assert fresh.register(with_id) is with_id
    assert fresh.register(with_name) is with_name
    assert fresh.register(by_function) is by_function
    assert fresh.get("by-id") is with_id and fresh.get("by-name") is with_name
    assert fresh.get("by_function") is by_function
    assert sorted(fresh.list()) == ["by-id", "by-name", "by_function"]


def test_register_object_skips_attributes_that_are_not_strings(fresh: Registry) -> None:
    class Model:
        id = 7  # not a name: fall through to __name__
        name = property(lambda self: "instance-only")

    fresh.register(Model)
    assert fresh.get("Model") is Model


@pytest.mark.parametrize("bad", [3, 2.5, None, b"bytes", ("a", "b")])
def test_non_string_non_object_name_is_a_type_error(fresh: Registry, bad: object) -> None:
    with pytest.raises(TypeError, match=r"widget name must be a str, got .*Fix: call register\(name, obj\)"):
        fresh.register(bad)
    assert fresh.list() == []


def test_non_string_name_with_an_object_is_a_type_error(fresh: Registry) -> None:
    with pytest.raises(TypeError, match="widget name must be a str, got int: 3"):
        fresh.register(3, object())  # type: ignore[call-overload]


@pytest.mark.parametrize("decorator", [
    core.register_model, loader_registry.register_model, model_registry.register, registries.models.register,
], ids=["registry.register_model", "loader_registry.register_model", "model_registry.register",
        "plugins.registries.models.register"])
def test_bare_decorator_registers_under_the_class_name(decorator: object) -> None:
    with isolated():
        @decorator  # type: ignore[operator]
        class BareModel:
            def forward(self, x):
                return x

        assert model_registry.get("BareModel") is BareModel
        assert "baremodel" in model_registry
        assert model_registry.metadata("BareModel")["provenance"]["qualname"].endswith("BareModel")


def test_bare_decorator_still_checks_the_interface() -> None:
    with isolated(), pytest.raises(TypeError, match=r"Model class NoForward .*must implement forward\(\)"):
        @core.register_model
        class NoForward:
            pass


def test_bare_metric_decorator_on_a_function() -> None:
    with isolated():
        @core.register_metric
        def exact(preds, targets):
            return float(preds == targets)

        assert core.get_metric("exact") is exact


# --------------------------------------------------------------- tools
def test_plain_register_captures_the_schema_so_drift_shows_on_first_access() -> None:
    def lookup(city: str) -> str:
        return city

    def moved(town: str) -> str:
        return town

    with isolated():
        tool_registry.register("lookup", lookup)
        assert tool_registry.metadata("lookup")["schema"]["required"] == ["city"]
        lookup.__code__ = moved.__code__  # changed before anyone asked for it
        with pytest.raises(ToolSignatureError, match="parameter 'city' is in the schema but not in the function"):
            tool_registry.get("lookup")


def test_register_tool_and_tool_capture_the_schema_at_registration() -> None:
    with isolated():
        @core.register_tool
        def bare(q: str) -> str:
            return q

        @core.tool
        def also_bare(n: int) -> int:
            return n

        bare.__defaults__ = ("x",)
        with pytest.raises(ToolSignatureError, match="parameter 'q' is optional in the function"):
            tool_registry.get("bare")
        assert tool_registry.metadata("also_bare")["schema"]["properties"] == {"n": {"type": "integer"}}


def test_plain_register_of_a_non_callable_tool_is_refused() -> None:
    with isolated(), pytest.raises(TypeError, match="tool 'answer' must be callable, got int"):
        tool_registry.register("answer", 42)


# ------------------------------------------------------ reset_discovery
PLUGIN = """
from codex_ml.registry import register_model

@register_model("{name}")
class Model:
    def forward(self, x):
        return x
"""


def test_reset_discovery_reimports_plugin_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "plugins"
    write(folder / "first.py", PLUGIN.format(name="first-dir-model"))
    monkeypatch.setenv("CODEX_ML_PLUGIN_PATH", str(folder))
    with isolated():
        assert "first-dir-model" in core.list_models()
        write(folder / "second.py", PLUGIN.format(name="second-dir-model"))
        assert "second-dir-model" not in core.list_models()  # discovery ran once
        core.reset_discovery()
        assert {"first-dir-model", "second-dir-model"} <= set(core.list_models())  # no explicit call


def test_reset_discovery_rescans_entry_points_and_reruns_hooks(tmp_path: Path) -> None:
    project = make_package(tmp_path, "reset-probe", {
        "codex_ml.metrics": {"reset-probe-lazy": "reset_probe:score", "reset-hook": "reset_probe:register"},
    }, {"reset_probe.py": """
        CALLS = []

        def score(preds, targets):
            return 1.0

        def register(register_fn):
            CALLS.append(1)
            register_fn("reset-probe-hooked", score)
        """})
    site = pip_install(project, tmp_path / "site")
    with isolated():
        assert "reset-probe-lazy" not in core.list_metrics()
        sys.path.insert(0, str(site))  # installed after the first scan
        core.reset_discovery()
        assert "reset-probe-lazy" in core.list_metrics()
        assert core.get_metric("reset-probe-hooked")([1], [1]) == 1.0
        calls = sys.modules["reset_probe"].CALLS
        assert calls == [1]
        core.reset_discovery()
        assert "reset-probe-hooked" not in core.metric_registry.list()  # forgotten ...
        assert core.get_metric("reset-probe-hooked")([1], [1]) == 1.0  # ... and found again on a miss
        assert calls == [1, 1]
