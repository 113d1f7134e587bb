"""codex_ml.registry: one lazy, thread-safe registry per component kind, standard library only.

A ``Registry`` owns a plain ``Table`` of entries (the hot path) and is given
its collaborators when it is built: a ``Source`` for its entry-point group, an
``Interface`` and ``Checks`` for its kind, and the ``Settings`` read once from
the environment. ``_world`` coordinates what spans every registry (plugin
folders, ``refresh``, ``reset_discovery``) and ``_kinds`` builds the built-in
registries; docs/index.md ("Architecture") has the map, and
``codex_ml.registry.testing`` gives tests a fresh, isolated world.
"""

from __future__ import annotations

from . import _index, _plugindirs
from ._directory import all_registries, registries
from ._discovery import DiscoveryReport, PluginFailure
from ._entry import Entry, Provenance
from ._epindex import EPRecord
from ._epindex import Index as EntryPointIndex
from ._errors import (
    InterfaceError,
    InvalidNameError,
    PluginWarning,
    RegistryCollisionError,
    RegistryError,
    RegistryLoadError,
    ToolSignatureError,
    UnknownComponentError,
)
from ._interfaces import Interface
from ._kinds import (
    agent_registry,
    data_loader_registry,
    helpers,
    logger_registry,
    metric_registry,
    model_registry,
    pipeline_registry,
    print_registry_summary,
    prompt_registry,
    register_tool,
    registry_disabled,
    reward_model_registry,
    rl_agent_registry,
    tokenizer_registry,
    tool,
    tool_registry,
    trainer_registry,
)
from ._plugindirs import DirReport, set_auto_discover
from ._registry import Registry
from ._settings import Settings, SettingsWarning
from ._world import discover_plugins, reset_discovery

(register_tokenizer, get_tokenizer, list_tokenizers, search_tokenizers,
 get_tokenizer_metadata, init_tokenizer_plugins) = helpers(tokenizer_registry)
(register_model, get_model, list_models, search_models,
 get_model_metadata, init_model_plugins) = helpers(model_registry)
(register_metric, get_metric, list_metrics, search_metrics,
 get_metric_metadata, init_metric_plugins) = helpers(metric_registry)
(register_data_loader, get_data_loader, list_data_loaders, search_data_loaders,
 get_data_loader_metadata, init_data_loader_plugins) = helpers(data_loader_registry)
(register_dataset, get_dataset, list_datasets, search_datasets,
 get_dataset_metadata, init_dataset_plugins) = helpers(data_loader_registry)
(register_trainer, get_trainer, list_trainers, search_trainers,
 get_trainer_metadata, init_trainer_plugins) = helpers(trainer_registry)
(register_reward_model, get_reward_model, list_reward_models, search_reward_models,
 get_reward_model_metadata, init_reward_model_plugins) = helpers(reward_model_registry)
(register_rl_agent, get_rl_agent, list_rl_agents, search_rl_agents,
 get_rl_agent_metadata, init_rl_agent_plugins) = helpers(rl_agent_registry)
(register_pipeline, get_pipeline, list_pipelines, search_pipelines,
 get_pipeline_metadata, init_pipeline_plugins) = helpers(pipeline_registry)
(_register_tool_plain, get_tool, list_tools, search_tools,
 get_tool_metadata, init_tool_plugins) = helpers(tool_registry)
(register_prompt, get_prompt, list_prompts, search_prompts,
 get_prompt_metadata, init_prompt_plugins) = helpers(prompt_registry)
(register_agent, get_agent, list_agents, search_agents,
 get_agent_metadata, init_agent_plugins) = helpers(agent_registry)
(register_logger, get_logger, list_loggers, search_loggers,
 get_logger_metadata, init_logger_plugins) = helpers(logger_registry)


def reload_settings() -> None:
    """Read the ``CODEX_ML_*`` environment again (it is read once per process)."""
    from . import _settings

    _settings.reset()


def plugin_dir_report() -> DirReport:
    """What the last plugin-folder pass did: roots, files loaded, failed and refused."""
    return _plugindirs.STATE.report


def entry_point_index() -> EntryPointIndex:
    """Every installed ``codex_ml*`` entry point (``.records``) and whether it came from the cache."""
    return _index.current()


def discover_all(force: bool = False, strict: bool | None = None) -> list[DiscoveryReport]:
    """Run ``init_*_plugins()`` for every registry (what ``codex-ml doctor`` does)."""
    return [reg.discover(force=force, strict=strict) for reg in all_registries()]


__all__ = [
    "DirReport",
    "DiscoveryReport",
    "Entry",
    "Interface",
    "InterfaceError",
    "InvalidNameError",
    "PluginFailure",
    "PluginWarning",
    "Provenance",
    "Registry",
    "Settings",
    "SettingsWarning",
    "RegistryCollisionError",
    "RegistryError",
    "RegistryLoadError",
    "ToolSignatureError",
    "UnknownComponentError",
    "agent_registry",
    "all_registries",
    "data_loader_registry",
    "discover_all",
    "plugin_dir_report",
    "entry_point_index",
    "EntryPointIndex",
    "EPRecord",
    "discover_plugins",
    "metric_registry",
    "model_registry",
    "pipeline_registry",
    "logger_registry",
    "print_registry_summary",
    "prompt_registry",
    "register_tool",
    "registries",
    "registry_disabled",
    "reload_settings",
    "reset_discovery",
    "reward_model_registry",
    "rl_agent_registry",
    "set_auto_discover",
    "tokenizer_registry",
    "tool",
    "tool_registry",
    "trainer_registry",
]
for _kind_name in ("tokenizer", "model", "metric", "data_loader", "dataset", "trainer",
                   "reward_model", "rl_agent", "pipeline", "tool", "prompt", "agent", "logger"):
    __all__ += [f"get_{_kind_name}", f"list_{_kind_name}s", f"search_{_kind_name}s",
                f"get_{_kind_name}_metadata", f"init_{_kind_name}_plugins"]
    if _kind_name != "tool":
        __all__.append(f"register_{_kind_name}")
del _kind_name
