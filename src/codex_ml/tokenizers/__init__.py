"""Tokenizers of the offline catalogue.

Every tokenizer follows one call convention: ``encode(text) -> list[int]``,
``decode(ids) -> str`` and ``vocab_size``, plus ``pad_token_id``,
``eos_token_id``, ``bos_token_id`` and ``unk_token_id`` where the vocabulary
has them. Importing this package imports no third-party library; the Hugging
Face builders live in :mod:`codex_ml.tokenizers.hf` and import transformers
only when called.
"""

from __future__ import annotations

from codex_ml.tokenizers.bytes import ByteTokenizer
from codex_ml.tokenizers.vocab import VocabTokenizer

__all__ = ["ByteTokenizer", "VocabTokenizer"]
