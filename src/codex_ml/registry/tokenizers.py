"""The tokenizer helpers (docs/guides/registries.md): views of ``codex_ml.registry.tokenizer_registry``."""

from __future__ import annotations

from . import (
    get_tokenizer,
    get_tokenizer_metadata,
    init_tokenizer_plugins,
    list_tokenizers,
    register_tokenizer,
    search_tokenizers,
    tokenizer_registry,
)

__all__ = [
    "get_tokenizer",
    "get_tokenizer_metadata",
    "init_tokenizer_plugins",
    "list_tokenizers",
    "register_tokenizer",
    "search_tokenizers",
    "tokenizer_registry",
]
