"""The model loader registry (a documented path, docs/compatibility.md): a view of ``codex_ml.registry.model_registry``."""

from __future__ import annotations

from codex_ml.registry import (
    get_model,
    get_model_metadata,
    init_model_plugins,
    list_models,
    model_registry,
    register_model,
    registry_disabled,
    search_models,
)

__all__ = [
    "model_registry", "register_model", "get_model", "list_models", "search_models",
    "get_model_metadata", "init_model_plugins", "registry_disabled",
]
