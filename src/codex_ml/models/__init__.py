"""Models: ``BaseModel`` for plugin authors; the catalogue's models live in submodules.

``BaseModel`` is deliberately free of torch so that importing it (and listing
the catalogue) stays cheap; a PyTorch model can inherit from both
``BaseModel`` and ``torch.nn.Module``.
"""

from __future__ import annotations

from typing import Any

from codex_ml.registry._interfaces import abstract


class BaseModel:
    """Optional base class for models (docs/guides/registries.md): keeps ``config``, needs ``forward``."""

    def __init__(self, config: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config

    @abstract
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Defer to torch.nn.Module.__call__ (hooks, DDP) when mixed in with one.
        parent = getattr(super(), "__call__", None)
        return parent(*args, **kwargs) if parent is not None else self.forward(*args, **kwargs)


__all__ = ["BaseModel"]
