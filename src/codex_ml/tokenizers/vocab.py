"""A word-level tokenizer over a fixed vocabulary read from ``vocab.json``.

``vocab.json`` maps each token to its id (``{"<pad>": 0, "<unk>": 1, ...}``);
ids must be the integers ``0 .. n-1``, each used once. Text is split into words
and punctuation marks (``\\w+|[^\\w\\s]``) and lower-cased unless
``lowercase=False``. Words outside the vocabulary become ``<unk>``; a vocabulary
without ``<unk>`` refuses them with a ``ValueError`` naming the word. This is the
``offline:tiny-vocab`` catalogue entry (a six-token vocabulary).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from codex_ml.catalogue import paths
from codex_ml.catalogue.jsonfile import FixtureError, load_json_object

_WORD = re.compile(r"\w+|[^\w\s]")
_PUNCT = re.compile(r"[^\w\s]")
SPECIALS = {"pad": "<pad>", "unk": "<unk>", "bos": "<bos>", "eos": "<eos>"}


def _check_vocab(vocab: Mapping[str, object], source: str) -> dict[str, int]:
    ids: dict[str, int] = {}
    for token, idx in vocab.items():
        if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
            raise FixtureError(
                f"vocabulary {source}: id of {token!r} must be a non-negative integer, found {idx!r}"
            )
        ids[token] = idx
    if sorted(ids.values()) != list(range(len(ids))):
        raise FixtureError(
            f"vocabulary {source}: ids must be 0..{len(ids) - 1}, each used once; found {sorted(ids.values())}"
        )
    if not ids:
        raise FixtureError(f"vocabulary {source} is empty; list at least one token")
    return ids


class VocabTokenizer:
    """Word-level tokenizer: ``encode`` / ``decode`` / ``vocab_size`` over a fixed vocabulary."""

    def __init__(
        self, vocab: Mapping[str, int], *, lowercase: bool = True, source: str = "<memory>"
    ) -> None:
        self._ids = _check_vocab(vocab, source)
        self._tokens = sorted(self._ids, key=self._ids.__getitem__)
        self.lowercase = lowercase
        self.source = source

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, lowercase: bool = True) -> VocabTokenizer:
        """Load a ``vocab.json`` mapping token -> id."""
        file = Path(path)
        data = load_json_object(file, "tokenizer vocabulary")
        return cls(data, lowercase=lowercase, source=str(file))

    @property
    def vocab_size(self) -> int:
        return len(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def _special_id(self, kind: str) -> int | None:
        return self._ids.get(SPECIALS[kind])

    @property
    def pad_token_id(self) -> int | None:
        return self._special_id("pad")

    @property
    def unk_token_id(self) -> int | None:
        return self._special_id("unk")

    @property
    def bos_token_id(self) -> int | None:
        return self._special_id("bos")

    @property
    def eos_token_id(self) -> int | None:
        return self._special_id("eos")

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset(self._ids[t] for t in SPECIALS.values() if t in self._ids)

    def get_vocab(self) -> dict[str, int]:
        return dict(self._ids)

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into the word and punctuation tokens that ``encode`` looks up."""
        if not isinstance(text, str):
            raise TypeError(f"tokenize() takes a str, got {type(text).__name__}")
        return _WORD.findall(text.lower() if self.lowercase else text)

    def token_to_id(self, token: str) -> int:
        idx = self._ids.get(token, self.unk_token_id)
        if idx is None:
            raise ValueError(
                f"token {token!r} is not in the vocabulary {self.source} and it has no '<unk>' token to "
                "stand for it; add the token or '<unk>' to vocab.json"
            )
        return idx

    def id_to_token(self, idx: int) -> str:
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < self.vocab_size:
            raise ValueError(
                f"token id {idx!r} is outside the vocabulary (0..{self.vocab_size - 1})"
            )
        return self._tokens[idx]

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """Token ids of ``text``; with ``add_special_tokens`` wrapped in ``<bos>``/``<eos>`` when present."""
        ids = [self.token_to_id(tok) for tok in self.tokenize(text)]
        if add_special_tokens:
            ids = [i for i in (self.bos_token_id,) if i is not None] + ids
            ids += [i for i in (self.eos_token_id,) if i is not None]
        return ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids``: tokens joined by spaces, punctuation attached; specials skipped by default."""
        skip = self.special_ids if skip_special_tokens else frozenset()
        words = [self.id_to_token(int(i)) for i in ids if int(i) not in skip]
        return "".join(w if i == 0 or _PUNCT.fullmatch(w) else " " + w for i, w in enumerate(words))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``vocab.json`` (a folder gets ``vocab.json`` inside it); return the file written."""
        target = Path(path)
        if target.is_dir():
            target = target / "vocab.json"
        target.write_text(json.dumps(self._ids, indent=2) + "\n", encoding="utf-8")
        return target

    def __repr__(self) -> str:
        return f"VocabTokenizer(vocab_size={self.vocab_size}, source={self.source!r})"


def build_tiny_vocab_tokenizer(
    path: str | os.PathLike[str] | None = None, *, lowercase: bool = True
) -> VocabTokenizer:
    """Catalogue factory of ``offline:tiny-vocab``: the six-token vocabulary (see :mod:`codex_ml.catalogue.paths`)."""
    return VocabTokenizer.from_file(paths.resolve("tiny_tokenizer", path), lowercase=lowercase)
