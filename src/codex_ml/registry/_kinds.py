"""The built-in registries (one per kind, docs/guides/registries.md) and their module-level helpers."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any

from . import _interfaces, _registering, _settings, _tools
from ._directory import all_registries, registries
from ._entry import BUILTIN, Entry, Provenance
from ._interfaces import Checks
from ._registry import Registry


def _kind(kind: str, label: str, *, factory: bool = True, **kw: Any) -> Registry[Any]:
    reg: Registry[Any] = Registry(kind, entry_point_group=f"codex_ml.{kind}", factory=factory,
                                  label=label, publish=False, **kw)
    provenance = Provenance(BUILTIN, module=__name__, qualname=f"{kind}", distribution="codex-ml")
    meta = {"version": None, "author": "codex_ml", "description": f"registry of {kind}",
            "tags": ("registry",), "entry_point_group": reg.entry_point_group}
    _registering.insert(registries, Entry(kind, reg, provenance, False, metadata=meta), override=False)
    return reg


class ToolChecks(Checks):
    """A tool's schema is taken when it is registered, and checked on every access."""

    def on_register(self, entry: Entry) -> None:
        if not callable(entry.obj):
            raise TypeError(f"tool {entry.name!r} must be callable, got {type(entry.obj).__name__}")
        given = entry.metadata.get("schema")
        if given is None:
            entry.metadata["schema"] = _tools.schema_from_signature(entry.obj)
        entry.metadata.setdefault("schema_source", "signature" if given is None else "author")
        _tools.check(entry.name, entry.obj, entry.metadata["schema"], str(entry.provenance))

    def on_access(self, entry: Entry) -> bool:
        schema = entry.metadata.get("schema")
        if schema is None:  # a tool from an entry point: registered when first loaded
            self.on_register(entry)
        else:
            _tools.check(entry.name, entry.obj, schema, str(entry.provenance))
        return True


tokenizer_registry: Registry[Any] = _kind("tokenizers", "tokenizer")
model_registry: Registry[Any] = _kind("models", "model", interface=_interfaces.MODEL)
metric_registry: Registry[Any] = _kind("metrics", "metric", factory=False)
data_loader_registry: Registry[Any] = _kind("data_loaders", "dataset", interface=_interfaces.DATASET)
trainer_registry: Registry[Any] = _kind("trainers", "trainer", interface=_interfaces.TRAINER)
reward_model_registry: Registry[Any] = _kind("reward_models", "reward model")
rl_agent_registry: Registry[Any] = _kind("rl_agents", "RL agent")
pipeline_registry: Registry[Any] = _kind("pipelines", "pipeline", interface=_interfaces.PIPELINE)
tool_registry: Registry[Any] = _kind("tools", "tool", factory=False, checks=ToolChecks())
prompt_registry: Registry[Any] = _kind("prompts", "prompt", factory=False)
agent_registry: Registry[Any] = _kind("agents", "agent")
logger_registry: Registry[Any] = _kind("loggers", "logger")  # codex_ml.loggers (training)


# ----------------------------------------------------------------- helpers
def helpers(reg: Registry[Any]) -> tuple[Callable[..., Any], ...]:
    """``register_x, get_x, list_xs, search_xs, get_x_metadata, init_x_plugins`` of a kind."""

    def register(name: str, obj: Any = None, **kwargs: Any) -> Any:
        return reg.register(name, obj, **kwargs)

    def get(name: str, **kwargs: Any) -> Any:
        obj = reg[name]
        if not kwargs and isinstance(obj, type) and _needs_arguments(obj):
            return obj  # docs/compatibility.md: ``model_class = get_model("my-model")``
        return reg.create(name, **kwargs)

    def list_(**kwargs: Any) -> list[str]:
        return reg.list(**kwargs)

    def search(query: str, **kwargs: Any) -> list[str]:
        return reg.search(query, **kwargs)

    def metadata(name: str) -> dict[str, Any]:
        return reg.metadata(name)

    def init(force: bool = False, strict: bool | None = None) -> Any:
        return reg.discover(force=force, strict=strict)

    get.__doc__ = (f"Build the {reg.label} ``name`` with ``kwargs`` (``{reg.kind}.create``); a class "
                   "whose constructor needs arguments is returned as is when none are given.")
    return register, get, list_, search, metadata, init


def _needs_arguments(cls: type) -> bool:
    import inspect

    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return False
    required = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                inspect.Parameter.KEYWORD_ONLY)
    return any(p.default is p.empty and p.kind in required for p in params)


def register_tool(name: Any, fn: Any = None, *, schema: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Register a tool with its parameter schema (from ``schema=`` or its signature)."""
    if not isinstance(name, str) and fn is None:  # bare @register_tool
        return tool(name, schema=schema, **kwargs)
    if fn is None:
        return lambda f: register_tool(name, f, schema=schema, **kwargs)
    return tool_registry.register(name, fn, schema=schema, **kwargs)


def tool(fn: Any = None, *, name: str | None = None, schema: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Decorator: ``@tool`` or ``@tool(name=..., schema=...)`` registers a tool."""
    def decorate(f: Any) -> Any:
        if name is None:
            return tool_registry.register(f, schema=schema, **kwargs)
        return tool_registry.register(name, f, schema=schema, **kwargs)

    return decorate(fn) if fn is not None else decorate


def registry_disabled() -> bool:
    """``CODEX_MODEL_REGISTRY_DISABLE=1``: loaders skip registered model factories."""
    return _settings.current().model_registry_disabled


def print_registry_summary(file: IO[str] | None = None) -> None:
    """Print every registry with its count and names (docs/guides/registries.md)."""
    out = file or sys.stdout
    print("codex_ml registries", file=out)
    for reg in all_registries():
        names = reg.list()
        group = f" [{reg.entry_point_group}]" if reg.entry_point_group else ""
        print(f"  {reg.kind}{group}: {len(names)}", file=out)
        for name in names:
            meta = reg.metadata(name)
            desc = f" - {meta['description']}" if meta.get("description") else ""
            print(f"    {name} ({meta['provenance']['source']}){desc}", file=out)


# ------------------------------------------------------- module-level helpers
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


def _install_catalogue() -> None:
    """The built-in registries hold the offline catalogue from the moment they exist (by dotted path)."""
    from codex_ml.catalogue import install

    install()


_install_catalogue()
