"""``offline:tiny-sequence``: a smoothed n-gram language model described by ``model.json``.

Pure Python (no torch), deterministic, and trainable by counting, so the
functional trainer can fit it without any ML library. ``model.json``::

    {"format": "codex_ml.tiny_sequence/v1",
     "vocab": ["<pad>", "<unk>", "<bos>", "<eos>", "hello", "world"],
     "order": 2, "smoothing": 0.1, "lowercase": true,
     "counts": {"": {"hello": 2}, "<bos>": {"hello": 2}, "hello": {"world": 2}}}

``counts`` maps a context (the previous ``order - 1`` tokens or fewer, joined
by spaces; ``""`` is the unigram context) to next-token counts. The next-token
distribution uses the longest context seen in training (backoff) with add-k
smoothing over every token except ``<pad>`` and ``<bos>``:
``p(w | ctx) = (count(ctx, w) + k) / (total(ctx) + k * |candidates|)``.
Greedy decoding breaks ties by the lowest id, so generation is deterministic.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from codex_ml.catalogue import paths
from codex_ml.catalogue.jsonfile import FixtureError, field, load_json_object, reject_unknown
from codex_ml.tokenizers.vocab import VocabTokenizer

FORMAT = "codex_ml.tiny_sequence/v1"
_WHAT = "tiny sequence model"
_KEYS = ("format", "description", "vocab", "order", "smoothing", "lowercase", "counts")
Context = tuple[int, ...]


def _check_hyper(order: object, smoothing: object) -> None:
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= 8:
        raise ValueError(f"order must be an integer from 1 to 8, got {order!r}")
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not smoothing >= 0:
        raise ValueError(f"smoothing (add-k) must be a number >= 0, got {smoothing!r}")


class TinySequenceModel:
    """n-gram next-token model with ``generate``, ``next_token_probs``, ``nll``, ``fit`` and JSON state."""

    def __init__(
        self,
        vocab: Sequence[str],
        *,
        order: int = 2,
        smoothing: float = 0.1,
        lowercase: bool = True,
        source: str = "<memory>",
    ) -> None:
        _check_hyper(order, smoothing)
        for token in vocab:
            if not isinstance(token, str) or not token or any(ch.isspace() for ch in token):
                raise ValueError(
                    f"vocabulary tokens must be non-empty strings without spaces, got {token!r}"
                )
        self.tokenizer = VocabTokenizer(
            {t: i for i, t in enumerate(vocab)}, lowercase=lowercase, source=source
        )
        self.vocab = list(vocab)
        self.order = order
        self.smoothing = float(smoothing)
        self.lowercase = lowercase
        self.source = source
        self._counts: dict[Context, dict[int, int]] = {}
        excluded = {self.tokenizer.pad_token_id, self.tokenizer.bos_token_id}
        self._candidates = [i for i in range(len(self.vocab)) if i not in excluded]

    # -- sizes and special ids -------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def bos_token_id(self) -> int | None:
        return self.tokenizer.bos_token_id

    @property
    def eos_token_id(self) -> int | None:
        return self.tokenizer.eos_token_id

    # -- training by counting --------------------------------------------------------------
    def reset(self) -> TinySequenceModel:
        """Forget every count."""
        self._counts = {}
        return self

    def _as_ids(self, item: str | Sequence[int]) -> list[int]:
        ids = self.tokenizer.encode(item) if isinstance(item, str) else [int(i) for i in item]
        for idx in ids:
            if not 0 <= idx < self.vocab_size:
                raise ValueError(
                    f"token id {idx} is outside the model vocabulary (0..{self.vocab_size - 1})"
                )
        return ids

    def _padded(self, ids: Sequence[int]) -> list[int]:
        bos = self.bos_token_id
        return ([bos] * (self.order - 1) if bos is not None else []) + list(ids)

    def update(self, sequences: Iterable[str | Sequence[int]]) -> TinySequenceModel:
        """Add the n-gram counts of ``sequences`` (texts or id lists); ``<eos>`` closes each one."""
        for item in sequences:
            ids = self._as_ids(item)
            if self.eos_token_id is not None:
                ids.append(self.eos_token_id)
            seq = self._padded(ids)
            start = len(seq) - len(ids)
            for pos in range(start, len(seq)):
                self._count(seq, pos)
        return self

    def _count(self, seq: Sequence[int], pos: int) -> None:
        for length in range(min(self.order - 1, pos) + 1):
            ctx = tuple(seq[pos - length : pos])
            table = self._counts.setdefault(ctx, {})
            table[seq[pos]] = table.get(seq[pos], 0) + 1

    def fit(
        self, sequences: Iterable[str | Sequence[int]], *, reset: bool = True
    ) -> TinySequenceModel:
        """Count ``sequences`` from scratch (``reset=False`` adds to the current counts)."""
        if reset:
            self.reset()
        return self.update(sequences)

    # -- prediction ------------------------------------------------------------------------
    def _table(self, context: Sequence[int]) -> dict[int, int]:
        full = self._padded(context)
        for length in range(min(self.order - 1, len(full)), -1, -1):
            table = self._counts.get(tuple(full[len(full) - length :]))
            if table:
                return table
        return {}

    def next_token_probs(self, context: Sequence[int]) -> list[float]:
        """Distribution over the vocabulary of the token after ``context`` (ids, without ``<bos>``)."""
        table = self._table([int(i) for i in context])
        total = sum(table.get(i, 0) for i in self._candidates)
        denom = total + self.smoothing * len(self._candidates)
        probs = [0.0] * self.vocab_size
        for idx in self._candidates:
            probs[idx] = (
                (table.get(idx, 0) + self.smoothing) / denom if denom else 1 / len(self._candidates)
            )
        return probs

    def predict(self, context: Sequence[int]) -> int:
        """The most probable next id (lowest id on ties)."""
        probs = self.next_token_probs(context)
        return max(range(self.vocab_size), key=lambda i: (probs[i], -i))

    def token_nlls(self, ids: str | Sequence[int], *, add_eos: bool = False) -> list[float]:
        """Natural-log NLL of each token given the ones before it (feed these to the ``ppl`` metric)."""
        seq = self._as_ids(ids)
        if add_eos and self.eos_token_id is not None:
            seq.append(self.eos_token_id)
        out = []
        for pos, target in enumerate(seq):
            p = self.next_token_probs(seq[:pos])[target]
            out.append(-math.log(p) if p > 0 else math.inf)
        return out

    def nll(self, ids: str | Sequence[int], *, add_eos: bool = False) -> float:
        """Mean per-token NLL of ``ids`` (``nan`` for an empty sequence)."""
        values = self.token_nlls(ids, add_eos=add_eos)
        return sum(values) / len(values) if values else math.nan

    def forward(self, input_ids: Sequence[int] | Sequence[Sequence[int]]) -> list[Any]:
        """Next-token distributions at every position: ``[T][V]`` for one sequence, ``[B][T][V]`` for a batch."""
        batch: list[Any] = list(input_ids)
        if batch and isinstance(batch[0], (list, tuple)):
            return [self.forward(row) for row in batch]
        ids = [int(i) for i in batch]
        return [self.next_token_probs(ids[: pos + 1]) for pos in range(len(ids))]

    __call__ = forward

    def generate_ids(self, ids: Sequence[int], max_new_tokens: int = 16) -> list[int]:
        """Greedy continuation ids of ``ids``, stopping at ``<eos>``."""
        if (
            isinstance(max_new_tokens, bool)
            or not isinstance(max_new_tokens, int)
            or max_new_tokens < 0
        ):
            raise ValueError(
                f"max_new_tokens must be a non-negative integer, got {max_new_tokens!r}"
            )
        context, out = [int(i) for i in ids], list[int]()
        for _ in range(max_new_tokens):
            nxt = self.predict(context + out)
            if nxt == self.eos_token_id:
                break
            out.append(nxt)
        return out

    def generate(self, prompt: str, max_new_tokens: int = 16) -> str:
        """Greedy continuation of ``prompt`` as text (the continuation only, without the prompt)."""
        if not isinstance(prompt, str):
            raise TypeError(f"generate() takes a prompt string, got {type(prompt).__name__}")
        return self.tokenizer.decode(
            self.generate_ids(self.tokenizer.encode(prompt), max_new_tokens)
        )

    # -- state -----------------------------------------------------------------------------
    def _ctx_key(self, ctx: Context) -> str:
        return " ".join(self.vocab[i] for i in ctx)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state, the format of ``model.json``."""
        counts = {
            self._ctx_key(ctx): {self.vocab[i]: n for i, n in sorted(table.items())}
            for ctx, table in sorted(self._counts.items(), key=lambda kv: (len(kv[0]), kv[0]))
        }
        return {
            "format": FORMAT,
            "vocab": list(self.vocab),
            "order": self.order,
            "smoothing": self.smoothing,
            "lowercase": self.lowercase,
            "counts": counts,
        }

    def load_counts(self, counts: dict[str, Any], source: str = "<memory>") -> TinySequenceModel:
        """Replace the counts by ``counts`` in the ``model.json`` format."""
        index = {t: i for i, t in enumerate(self.vocab)}
        self.reset()
        for key, table in counts.items():
            ctx = tuple(_lookup(index, t, source) for t in key.split())
            if len(ctx) >= self.order or not isinstance(table, dict):
                raise FixtureError(
                    f"{_WHAT} {source}: bad context {key!r} (at most {self.order - 1} tokens, "
                    "mapping to {token: count})"
                )
            self._counts[ctx] = {
                _lookup(index, t, source): _count_value(n, source) for t, n in table.items()
            }
        return self

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`state_dict` as JSON (a folder gets ``model.json``); return the file."""
        target = Path(path)
        if target.is_dir():
            target = target / "model.json"
        target.write_text(json.dumps(self.state_dict(), indent=2) + "\n", encoding="utf-8")
        return target

    @classmethod
    def from_state(cls, state: dict[str, Any], source: str = "<memory>") -> TinySequenceModel:
        """Build a model from a ``model.json``-shaped mapping, validating every field."""
        src = Path(source)
        reject_unknown(state, _KEYS, src, _WHAT)
        fmt = state.get("format", FORMAT)
        if fmt != FORMAT:
            raise FixtureError(
                f"{_WHAT} {source}: format {fmt!r} is not supported; expected {FORMAT!r}"
            )
        vocab = field(state, "vocab", list, src, _WHAT)
        order = field(state, "order", int, src, _WHAT, default=2)
        smoothing = field(state, "smoothing", (int, float), src, _WHAT, default=0.1)
        lowercase = field(state, "lowercase", bool, src, _WHAT, default=True)
        try:
            model = cls(vocab, order=order, smoothing=smoothing, lowercase=lowercase, source=source)
        except ValueError as exc:
            raise FixtureError(f"{_WHAT} {source}: {exc}") from exc
        return model.load_counts(field(state, "counts", dict, src, _WHAT, default={}), source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TinySequenceModel:
        file = Path(path)
        return cls.from_state(load_json_object(file, _WHAT), str(file))

    def __repr__(self) -> str:
        return f"TinySequenceModel(order={self.order}, vocab_size={self.vocab_size}, source={self.source!r})"


def _lookup(index: dict[str, int], token: str, source: str) -> int:
    if token not in index:
        raise FixtureError(
            f"{_WHAT} {source}: token {token!r} in counts is not in its vocab; add it to 'vocab'"
        )
    return index[token]


def _count_value(value: object, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FixtureError(
            f"{_WHAT} {source}: counts must be non-negative integers, found {value!r}"
        )
    return value


def build_tiny_sequence_model(path: str | os.PathLike[str] | None = None) -> TinySequenceModel:
    """Catalogue factory of ``offline:tiny-sequence`` (``artifacts/models/tiny_sequence_model/model.json``)."""
    return TinySequenceModel.from_file(paths.resolve("tiny_sequence", path))
