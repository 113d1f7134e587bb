"""A whitespace tokenizer that grows its vocabulary as it encodes."""

from __future__ import annotations

import os

# Tests prove laziness with this side effect: the module appends its name to
# $CODEX_TOY_IMPORT_LOG when (and only when) it is imported.
if os.environ.get("CODEX_TOY_IMPORT_LOG"):
    with open(os.environ["CODEX_TOY_IMPORT_LOG"], "a", encoding="utf-8") as _log:
        _log.write(__name__ + "\n")


class ToyTokenizer:
    """encode(text) -> ids, decode(ids) -> text; id 0 is reserved for <unk>."""

    def __init__(self, vocab: dict[str, int] | None = None) -> None:
        self.vocab = dict(vocab or {"<unk>": 0})
        self.inverse = {i: t for t, i in self.vocab.items()}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        ids = []
        for token in text.split():
            if token not in self.vocab:
                self.vocab[token] = len(self.vocab)
                self.inverse[self.vocab[token]] = token
            ids.append(self.vocab[token])
        return ids

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.inverse.get(i, "<unk>") for i in ids)


def build_tokenizer(**kwargs: object) -> ToyTokenizer:
    """Factory: ``get_tokenizer("toy", vocab={...})``."""
    return ToyTokenizer(kwargs.get("vocab"))  # type: ignore[arg-type]
