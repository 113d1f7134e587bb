"""The metric helpers: views of ``codex_ml.registry.metric_registry`` (docs/guides/registries.md)."""

from __future__ import annotations

from codex_ml.registry import (
    get_metric,
    get_metric_metadata,
    init_metric_plugins,
    list_metrics,
    metric_registry,
    register_metric,
    search_metrics,
)

__all__ = [
    "metric_registry", "register_metric", "get_metric", "list_metrics", "search_metrics",
    "get_metric_metadata", "init_metric_plugins",
]
