"""Text in, token ids out: the data half of training, without torch.

A dataset entry of the registry returns records (strings, or mappings with a
``text`` field); they are joined by newlines and encoded once, the way
nanoGPT's ``prepare.py`` turns a corpus into one stream of ids, then the tail
``val_fraction`` is held out for evaluation.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codex_ml.training.errors import TrainingConfigError

_TEXT_FIELDS = ("text", "content", "prompt")


@dataclass(frozen=True)
class TokenSplits:
    """The training and validation token streams, plus the texts they came from."""

    train: list[int]
    val: list[int]
    texts: list[str]


def record_text(record: Any, index: int) -> str:
    """The text of one dataset record (a string, or a mapping with a text field)."""
    if isinstance(record, str):
        return record
    if isinstance(record, Mapping):
        for key in _TEXT_FIELDS:
            if isinstance(record.get(key), str):
                return str(record[key])
    raise TrainingConfigError(
        f"dataset record {index} is a {type(record).__name__} with no text: expected a string "
        f"or a mapping with one of the fields {', '.join(_TEXT_FIELDS)}. Fix the dataset entry "
        "or point dataset_loader at a plain-text file.")


def record_texts(records: Iterable[Any]) -> list[str]:
    texts = [record_text(r, i) for i, r in enumerate(records)]
    return [t for t in texts if t.strip()]


def encode_texts(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Encode the corpus as one stream; lines are joined by newlines like the file was."""
    encode = getattr(tokenizer, "encode", None)
    if not callable(encode):
        raise TrainingConfigError(
            f"tokenizer {type(tokenizer).__name__} has no encode(text) method; tokenizers must "
            "provide encode(text) -> list[int], decode(ids) -> str and vocab_size.")
    ids = encode("\n".join(texts))
    return [int(i) for i in ids]


def split_tokens(ids: list[int], val_fraction: float, min_val: int) -> tuple[list[int], list[int]]:
    """Hold out the tail of the stream, at least ``min_val`` tokens of it."""
    if not 0 < val_fraction < 1:
        raise TrainingConfigError(
            f"dataset_loader.val_fraction must be between 0 and 1, found {val_fraction}.")
    n_val = max(int(len(ids) * val_fraction), min_val)
    if len(ids) - n_val < min_val:
        raise TrainingConfigError(
            f"the dataset encodes to {len(ids)} tokens: too few for a training and a validation "
            f"split of at least {min_val} tokens each (block_size + 1). Use a larger corpus "
            "(dataset_loader.path=...) or a smaller training.block_size.")
    return ids[:-n_val], ids[-n_val:]


def make_splits(records: Iterable[Any], tokenizer: Any, val_fraction: float,
                block_size: int) -> TokenSplits:
    texts = record_texts(records)
    if not texts:
        raise TrainingConfigError("the dataset has no text records; point dataset_loader.path "
                                  "at a file with at least one non-empty line.")
    train, val = split_tokens(encode_texts(tokenizer, texts), val_fraction, block_size + 1)
    return TokenSplits(train=train, val=val, texts=texts)


def window_starts(n_tokens: int, block_size: int, stride: int) -> list[int]:
    """Start offsets of every full ``block_size + 1`` window (input plus shifted target)."""
    last = n_tokens - (block_size + 1)
    return list(range(0, last + 1, max(stride, 1)))
