"""Text in, token ids out: the data half of training, without torch.

A dataset entry of the registry returns records (strings, or mappings with a
``text`` field). The last ``val_fraction`` of them is held out; each side is
joined by newlines and encoded once, the way nanoGPT's ``prepare.py`` turns a
corpus into one stream of ids.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codex_ml.training.errors import TrainingConfigError

_TEXT_FIELDS = ("text", "content", "prompt")


@dataclass(frozen=True)
class TokenSplits:
    """Training and validation token streams, and the held-out lines (prompts for sampling)."""

    train: list[int]
    val: list[int]
    train_texts: list[str]
    val_texts: list[str]


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


def split_records(texts: list[str], val_fraction: float) -> tuple[list[str], list[str]]:
    """Hold out the last ``val_fraction`` of the records (at least one) for evaluation."""
    if not 0 < val_fraction < 1:
        raise TrainingConfigError(
            f"dataset_loader.val_fraction must be between 0 and 1, found {val_fraction}.")
    if len(texts) < 2:
        raise TrainingConfigError(
            f"the dataset has {len(texts)} non-empty record(s); training needs at least two, one "
            "of them held out for evaluation. Point dataset_loader.path at a file with more lines.")
    n_val = min(max(int(len(texts) * val_fraction), 1), len(texts) - 1)
    return texts[:-n_val], texts[-n_val:]


def make_splits(records: Iterable[Any], tokenizer: Any, val_fraction: float) -> TokenSplits:
    """Split the records by line, then encode each side as one stream."""
    train_texts, val_texts = split_records(record_texts(records), val_fraction)
    return TokenSplits(train=encode_texts(tokenizer, train_texts),
                       val=encode_texts(tokenizer, val_texts),
                       train_texts=train_texts, val_texts=val_texts)


def require_tokens(ids: list[int], needed: int, split: str) -> None:
    if len(ids) < needed:
        raise TrainingConfigError(
            f"the {split} split encodes to {len(ids)} tokens, fewer than one window of "
            f"training.block_size + 1 = {needed}. Use a larger corpus (dataset_loader.path=...), "
            f"{_fraction_advice(split)}, or a smaller training.block_size.")


def _fraction_advice(split: str) -> str:
    """A held-out split that is too small needs a LARGER fraction; a training split, a smaller one."""
    if split == "training" or split == "train":
        return "a smaller dataset_loader.val_fraction (more lines for training)"
    return "a larger dataset_loader.val_fraction (more lines held out)"
