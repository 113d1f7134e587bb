"""The plugin-facing registries (docs/guides/registries.md): each name IS the core registry object.

``codex_ml.plugins.registries.models is codex_ml.registry.model_registry``.
"""

from __future__ import annotations

from codex_ml.registry import (
    agent_registry as agents,
)
from codex_ml.registry import (
    data_loader_registry as datasets,
)
from codex_ml.registry import (
    metric_registry as metrics,
)
from codex_ml.registry import (
    model_registry as models,
)
from codex_ml.registry import (
    pipeline_registry as pipelines,
)
from codex_ml.registry import (
    prompt_registry as prompts,
)
from codex_ml.registry import (
    reward_model_registry as reward_models,
)
from codex_ml.registry import (
    rl_agent_registry as rl_agents,
)
from codex_ml.registry import (
    tokenizer_registry as tokenizers,
)
from codex_ml.registry import (
    tool_registry as tools,
)
from codex_ml.registry import (
    trainer_registry as trainers,
)

data_loaders = datasets

__all__ = [
    "tokenizers", "models", "metrics", "datasets", "data_loaders", "trainers",
    "reward_models", "rl_agents", "pipelines", "tools", "prompts", "agents",
]
