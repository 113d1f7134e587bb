"""Every alternative import path (docs/guides/registries.md) is the same object."""

from __future__ import annotations

import importlib

import pytest

import codex_ml.registry as core

VIEWS = [
    ("codex_ml.plugins.registries", "tokenizers", core.tokenizer_registry),
    ("codex_ml.plugins.registries", "models", core.model_registry),
    ("codex_ml.plugins.registries", "metrics", core.metric_registry),
    ("codex_ml.plugins.registries", "datasets", core.data_loader_registry),
    ("codex_ml.plugins.registries", "trainers", core.trainer_registry),
    ("codex_ml.plugins.registries", "reward_models", core.reward_model_registry),
    ("codex_ml.plugins.registries", "rl_agents", core.rl_agent_registry),
    ("codex_ml.registry.tokenizers", "tokenizer_registry", core.tokenizer_registry),
    ("codex_ml.models.loader_registry", "model_registry", core.model_registry),
    ("codex_ml.metrics.registry", "metric_registry", core.metric_registry),
    ("codex_ml.registry.base", "Registry", core.Registry),
]
FUNCS = [
    ("codex_ml.registry.tokenizers", ["register_tokenizer", "get_tokenizer", "list_tokenizers",
                                      "init_tokenizer_plugins"]),
    ("codex_ml.models.loader_registry", ["register_model"]),
    ("codex_ml.metrics.registry", ["register_metric", "get_metric", "list_metrics", "init_metric_plugins"]),
]
KINDS = ["tokenizer", "model", "metric", "data_loader", "dataset", "trainer", "reward_model", "rl_agent",
         "pipeline", "tool", "prompt", "agent"]


@pytest.mark.parametrize("module, attr, obj", VIEWS)
def test_view_is_the_core_object(module: str, attr: str, obj: object) -> None:
    assert getattr(importlib.import_module(module), attr) is obj


@pytest.mark.parametrize("module, names", FUNCS)
def test_view_functions_are_the_core_functions(module: str, names: list[str]) -> None:
    mod = importlib.import_module(module)
    for name in names:
        assert getattr(mod, name) is getattr(core, name)


@pytest.mark.parametrize("kind", KINDS)
def test_module_level_helpers_exist_for_every_kind(kind: str) -> None:
    for name in [f"get_{kind}", f"list_{kind}s", f"search_{kind}s", f"get_{kind}_metadata",
                 f"init_{kind}_plugins"] + ([f"register_{kind}"] if kind != "tool" else ["register_tool"]):
        assert callable(getattr(core, name)), name
    assert set(core.__all__) <= set(dir(core))


def test_every_kind_has_its_entry_point_group() -> None:
    groups = {r.kind: r.entry_point_group for r in core.all_registries()}
    for kind in ["tokenizers", "models", "metrics", "data_loaders", "trainers", "reward_models",
                 "rl_agents", "pipelines", "tools", "prompts", "agents"]:
        assert groups[kind] == f"codex_ml.{kind}"


def test_errors_are_rooted_in_builtins() -> None:
    assert issubclass(core.UnknownComponentError, KeyError)
    assert issubclass(core.RegistryCollisionError, ValueError)
    assert issubclass(core.ToolSignatureError, TypeError)
    for err in (core.UnknownComponentError, core.RegistryCollisionError, core.RegistryLoadError,
                core.ToolSignatureError):
        assert issubclass(err, core.RegistryError)
