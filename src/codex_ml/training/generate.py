"""Text from a trained causal LM: greedy, temperature, top-k and top-p sampling, in batches.

Hugging Face models (``transformers`` or a peft wrapper of one) go through
their own ``generate()``, which keeps the key/value cache between steps and
takes a left-padded batch. The in-package decoder has no cache and learned
absolute positions, so padding would shift them: prompts of equal token
length are batched together and each step re-reads the last ``block_size``
tokens (nanoGPT's ``generate``). ``seed`` makes sampling repeatable.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from codex_ml.training.components import model_vocab_size, tokenizer_vocab
from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.lm import logits_of
from codex_ml.utils.modeling import is_hf_model


@dataclass(frozen=True)
class Sampling:
    """How to pick the next token; ``temperature=0`` is greedy."""

    max_new_tokens: int = 32
    temperature: float = 0.0
    top_k: int = 0  # 0: no top-k cut
    top_p: float = 1.0  # 1: no nucleus cut
    seed: int | None = None

    def __post_init__(self) -> None:
        checks = [("max_new_tokens", self.max_new_tokens >= 1, "an integer >= 1"),
                  ("temperature", self.temperature >= 0, "a number >= 0 (0 is greedy)"),
                  ("top_k", self.top_k >= 0, "an integer >= 0 (0 keeps every token)"),
                  ("top_p", 0 < self.top_p <= 1, "in (0, 1] (1 keeps every token)")]
        for name, ok, rule in checks:
            if not ok:
                raise TrainingConfigError(f"generate: {name} must be {rule}, found "
                                          f"{getattr(self, name)!r}.")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def filter_logits(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """``logits`` [B, V] with tokens outside the top-k / nucleus set to -inf."""
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1:
        ordered, index = torch.sort(logits, descending=True)
        cumulative = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
        drop = cumulative - torch.softmax(ordered, dim=-1) >= top_p  # keep the token crossing p
        logits = logits.masked_fill(drop.scatter(1, index, drop), float("-inf"))
    return logits


def next_tokens(logits: torch.Tensor, s: Sampling, generator: torch.Generator | None) -> torch.Tensor:
    """One token per row of ``logits`` [B, V]."""
    if s.greedy:
        return logits.argmax(dim=-1, keepdim=True)
    probs = torch.softmax(filter_logits(logits / s.temperature, s.top_k, s.top_p), dim=-1)
    return torch.multinomial(probs, 1, generator=generator)


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def _own_batch(model: torch.nn.Module, ids: list[list[int]], s: Sampling, block_size: int,
               generator: torch.Generator | None, vocab: int | None) -> list[list[int]]:
    seq = torch.tensor(ids, dtype=torch.long, device=_device(model))
    for _ in range(s.max_new_tokens):
        logits = logits_of(model(seq[:, -block_size:]))[:, -1, :vocab].float()  # only ids it can decode
        seq = torch.cat([seq, next_tokens(logits, s, generator).to(seq.device)], dim=1)
    return [row[len(ids[0]):] for row in seq.tolist()]


def _own_generate(model: torch.nn.Module, encoded: list[list[int]], s: Sampling,
                  block_size: int, vocab: int | None) -> list[list[int]]:
    """Batches of equal-length prompts through the cache-less decoder."""
    generator = None if s.seed is None else torch.Generator().manual_seed(s.seed)
    by_length: dict[int, list[int]] = {}
    for index, ids in enumerate(encoded):
        by_length.setdefault(len(ids), []).append(index)
    out: list[list[int]] = [[] for _ in encoded]
    for indices in by_length.values():
        rows = _own_batch(model, [encoded[i] for i in indices], s, block_size, generator, vocab)
        for i, row in zip(indices, rows):
            out[i] = row
    return out


@torch.no_grad()
def _hf_generate(model: Any, encoded: list[list[int]], s: Sampling, pad_id: int,
                 vocab: int | None) -> list[list[int]]:
    """One left-padded batch through ``model.generate`` (its key/value cache on)."""
    width = max(len(ids) for ids in encoded)
    device = _device(model)
    input_ids = torch.tensor([[pad_id] * (width - len(x)) + x for x in encoded], device=device)
    mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in encoded], device=device)
    if s.seed is not None:
        torch.manual_seed(s.seed)
    options: dict[str, Any] = {"do_sample": not s.greedy, "max_new_tokens": s.max_new_tokens,
                               "pad_token_id": pad_id, "use_cache": True}
    ids = model_vocab_size(model)
    if vocab is not None and ids is not None and ids > vocab:  # ids the tokenizer cannot decode
        options["suppress_tokens"] = list(range(vocab, ids))
    if not s.greedy:
        options.update(temperature=s.temperature, top_k=s.top_k, top_p=s.top_p)
    else:  # silence "temperature is set but do_sample=False" from a generation_config
        options.update(temperature=None, top_k=None, top_p=None)
    output = model.generate(input_ids=input_ids, attention_mask=mask, **options)
    return [row[width:] for row in output.tolist()]


def _pad_id(model: Any, tokenizer: Any) -> int:
    for value in (getattr(tokenizer, "pad_token_id", None), getattr(tokenizer, "eos_token_id", None),
                  getattr(getattr(model, "config", None), "eos_token_id", None)):
        if isinstance(value, int):
            return value
    return 0


def encode_prompts(tokenizer: Any, prompts: Sequence[str]) -> list[list[int]]:
    encoded = []
    for prompt in prompts:
        ids = [int(i) for i in tokenizer.encode(prompt)]
        if not ids:
            raise TrainingConfigError(f"generate: the prompt {prompt!r} encodes to no tokens; "
                                      "give at least one character.")
        encoded.append(ids)
    return encoded


def generate(model: Any, tokenizer: Any, prompts: Sequence[str], sampling: Sampling | None = None,
             block_size: int | None = None) -> list[str]:
    """Continuations (without the prompt) of each prompt, in order."""
    s = sampling or Sampling()
    if not prompts:
        return []
    encoded = encode_prompts(tokenizer, prompts)
    was_training = model.training
    model.eval()
    try:
        vocab = tokenizer_vocab(tokenizer)
        if is_hf_model(model):
            new = _hf_generate(model, encoded, s, _pad_id(model, tokenizer), vocab)
        else:
            limit: Any = block_size or getattr(getattr(model, "config", None), "max_seq_len", 1024)
            new = _own_generate(model, encoded, s, int(limit), vocab)
    finally:
        model.train(was_training)
    return [str(tokenizer.decode(ids)) for ids in new]
