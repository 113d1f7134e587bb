"""A SentencePiece ``tokenizer.model`` behind the catalogue's tokenizer call convention.

Used by ``tinyllama-offline`` when the folder holds ``tokenizer.model`` but no
``tokenizer.json``: it reads the model with the ``sentencepiece`` library
directly, so no conversion (and no protobuf) is needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _optional_id(value: int) -> int | None:
    return value if value >= 0 else None


class SentencePieceTokenizer:
    """``encode`` / ``decode`` / ``vocab_size`` over a SentencePiece model file."""

    def __init__(self, model_file: str | os.PathLike[str]) -> None:
        import sentencepiece as spm

        self.model_file = Path(model_file)
        processor: Any = spm.SentencePieceProcessor()
        try:
            processor.Load(str(self.model_file))
        except (OSError, RuntimeError) as exc:
            raise ValueError(
                f"{self.model_file} is not a readable SentencePiece model ({exc}); replace it with the "
                "tokenizer.model of the checkpoint, or provide a tokenizer.json beside it"
            ) from exc
        self._sp = processor
        self.vocab_size: int = int(processor.GetPieceSize())
        self.unk_token_id = _optional_id(int(processor.unk_id()))
        self.bos_token_id = _optional_id(int(processor.bos_id()))
        self.eos_token_id = _optional_id(int(processor.eos_id()))
        pad = _optional_id(int(processor.pad_id()))
        self.pad_token_id = pad if pad is not None else self.eos_token_id

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Ids of ``text``; like Llama's tokenizer, ``<s>`` is prepended unless ``add_special_tokens=False``."""
        if not isinstance(text, str):
            raise TypeError(f"encode() takes a str, got {type(text).__name__}")
        ids = [int(i) for i in self._sp.EncodeAsIds(text)]
        if add_special_tokens and self.bos_token_id is not None:
            ids.insert(0, self.bos_token_id)
        return ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids``; ids outside the vocabulary raise ``ValueError``."""
        values = [int(i) for i in ids]
        for idx in values:
            if not 0 <= idx < self.vocab_size:
                raise ValueError(
                    f"token id {idx} is outside the vocabulary (0..{self.vocab_size - 1})"
                )
        if skip_special_tokens:
            special = {self.bos_token_id, self.eos_token_id, self.pad_token_id}
            values = [i for i in values if i not in special]
        return str(self._sp.DecodeIds(values))

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> list[str]:
        return [str(self._sp.IdToPiece(int(i))) for i in ids]

    def __repr__(self) -> str:
        return f"SentencePieceTokenizer(vocab_size={self.vocab_size}, model_file={str(self.model_file)!r})"
