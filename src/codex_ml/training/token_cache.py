"""Corpora larger than memory: tokenise once, streaming, into a memory-mapped id file.

``data=lines`` (any :class:`~codex_ml.data.lines.LinesDataset`) on a PyTorch
model does not hold the corpus in memory. The lines are encoded in chunks
(the ``tokenizers`` fast batch encoder where the tokenizer has one, numpy
for the byte tokenizer) and appended to a flat file of token ids, ``uint16``
when the vocabulary fits, else ``uint32`` -- nanoGPT's ``train.bin``. The
last ``val_fraction`` of the tokens is held out; training reads random
windows through :mod:`codex_ml.training.token_windows`, so peak memory does
not grow with the corpus.

The cache lives in ``$CODEX_ML_CACHE_DIR/tokens/``, else in
``<training.output_dir>/.token-cache/``, under a key made of the file's
SHA-256, the dataset options and the tokenizer's identity: a changed file or
tokenizer is tokenised again. The id file is written under a temporary name
and renamed; the JSON manifest written after it is what marks the cache
complete, and its token count must match the file size. A folder another
account could write to is refused (``docs/reliability.md``).
"""
from __future__ import annotations

import collections
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codex_ml.registry._epcache import stamp
from codex_ml.training.atomic import atomic_path, atomic_write_text
from codex_ml.training.data import TokenSplits
from codex_ml.training.errors import TrainingConfigError

FORMAT = "codex_ml.tokens/1"
CHUNK_CHARS = 1 << 20  # text per encode call: bounds memory whatever the corpus size
PROMPT_LINES = 16  # held-out lines kept as prompts for samples


@dataclass(frozen=True)
class TokenStream:
    """Tokens ``[start, stop)`` of a flat id file, read on demand (never all at once)."""

    file: Path
    dtype: str
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start

    def rows(self, offsets: Iterable[int], width: int) -> np.ndarray:
        """``[len(offsets), width]`` int64 windows; a fresh map each call, as nanoGPT does,
        so pages read for one batch are not kept mapped."""
        data = np.memmap(self.file, dtype=self.dtype, mode="r")
        out = np.stack([data[self.start + o:self.start + o + width] for o in offsets])
        del data
        return out.astype(np.int64)

    def head(self, n: int) -> np.ndarray:
        """The first ``n`` tokens (all when ``n`` is 0) as int64."""
        count = len(self) if n <= 0 else min(n, len(self))
        head: np.ndarray = self.rows([0], count)[0]
        return head


def tokenizer_identity(tokenizer: Any) -> str:
    """What decides the ids: the serialised fast tokenizer, else the class and vocabulary."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return "tokenizers:" + hashlib.sha256(backend.to_str().encode()).hexdigest()
    kind = f"{type(tokenizer).__module__}.{type(tokenizer).__qualname__}"
    name = getattr(tokenizer, "name_or_path", "")
    return f"{kind}:{name}:{getattr(tokenizer, 'vocab_size', '')}:{len(tokenizer) if hasattr(tokenizer, '__len__') else ''}"


def file_sha256(path: Path) -> str:
    from codex_ml.registry._fsafe import open_file  # a FIFO swapped in is refused, never hangs

    digest = hashlib.sha256()
    with open_file(path, trusted=False) as handle:
        while block := handle.read(1 << 23):
            digest.update(block)
    return digest.hexdigest()


def id_dtype(tokenizer: Any) -> str:
    from codex_ml.training.components import vocab_size_of

    return "uint16" if vocab_size_of(tokenizer) <= 1 << 16 else "uint32"


def _encoder(tokenizer: Any) -> Any:
    """``encode(list of lines) -> 1-D int array`` of the lines, each followed by a newline."""
    from codex_ml.tokenizers.bytes import ByteTokenizer

    if isinstance(tokenizer, ByteTokenizer):
        return lambda lines: np.frombuffer(("\n".join(lines) + "\n").encode(), dtype=np.uint8)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:  # the Rust batch encoder, in parallel, without offsets
        batch = getattr(backend, "encode_batch_fast", backend.encode_batch)

        def fast(lines: list[str]) -> np.ndarray:
            encoded = batch([line + "\n" for line in lines], add_special_tokens=False)
            return np.fromiter((i for e in encoded for i in e.ids), dtype=np.int64)

        return fast
    return lambda lines: np.asarray(tokenizer.encode("\n".join(lines) + "\n"), dtype=np.int64)


def _chunks(lines: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line) + 1
        if size >= CHUNK_CHARS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def tokenise(lines: Iterable[str], tokenizer: Any, out: Path, dtype: str) -> dict[str, Any]:
    """Encode ``lines`` into ``out`` (atomically); return the count and the last lines."""
    encode, count, started = _encoder(tokenizer), 0, time.perf_counter()
    tail: collections.deque[str] = collections.deque(maxlen=PROMPT_LINES)
    with atomic_path(out, mode=0o600) as tmp, open(tmp, "wb") as handle:  # token ids are the corpus
        for chunk in _chunks(line for line in lines if line.strip()):
            ids = encode(chunk)
            handle.write(ids.astype(dtype, copy=False).tobytes())
            count += len(ids)
            tail.extend(chunk)
    return {"tokens": count, "tail": list(tail), "seconds": time.perf_counter() - started}


def cache_root(cfg: Mapping[str, Any]) -> Path:
    explicit = os.environ.get("CODEX_ML_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser() / "tokens"
    output = (cfg.get("training") or {}).get("output_dir") or "runs"
    return Path(str(output)).expanduser() / ".token-cache"


def check_private(path: Path) -> None:
    """Refuse a cache folder or file another account could change: it owns it, may write it, or owns
    a folder or link on the way to it (a link could send the cache, and the corpus it holds, to the
    attacker's choice of folder)."""
    from codex_ml.registry import _fsafe

    problem = _fsafe.check(path)
    if problem:
        raise TrainingConfigError(
            f"refusing the token cache {path}: {problem}. Another account could plant token ids, or read "
            "the corpus. Fix: remove it, or set CODEX_ML_CACHE_DIR to a folder of your own (mode 700).")


def _open_root(cfg: Mapping[str, Any]) -> Path:
    root = cache_root(cfg)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_private(root)
    return root


def _cache_key(dataset: Any, tokenizer: Any) -> tuple[str, dict[str, Any]]:
    source = {"path": str(Path(dataset.path).resolve()), "sha256": file_sha256(Path(dataset.path)),
              "options": {k: getattr(dataset, k, None)
                          for k in ("encoding", "strip", "skip_blank", "limit")},
              "tokenizer": tokenizer_identity(tokenizer), "dtype": id_dtype(tokenizer)}
    key_data = json.dumps({k: v for k, v in source.items() if k != "path"}, sort_keys=True)
    return hashlib.sha256(key_data.encode()).hexdigest()[:32], source


def _trusted(meta_file: Path, bin_file: Path, source: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest when it and the id file are complete and match ``source``."""
    if not (meta_file.is_file() and bin_file.is_file()):
        return None
    for path in (meta_file, bin_file):
        check_private(path)
    try:
        meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    size = np.dtype(source["dtype"]).itemsize * int(meta.get("tokens", -1))
    same = all(meta.get(k) == source[k] for k in ("sha256", "tokenizer", "dtype", "options"))
    return meta if meta.get("format") == FORMAT and same and bin_file.stat().st_size == size else None


def cached_tokens(cfg: Mapping[str, Any], dataset: Any, tokenizer: Any) -> tuple[Path, dict[str, Any]]:
    """``(id file, manifest)``, tokenising the corpus first unless a matching cache exists."""
    root = _open_root(cfg)
    before = stamp(str(dataset.path))  # before the hash: a write during the hash or the tokenising shows
    key, source = _cache_key(dataset, tokenizer)
    bin_file, meta_file = root / f"{key}.bin", root / f"{key}.json"
    meta = _trusted(meta_file, bin_file, source)
    if meta is None:
        print(f"tokenising {source['path']} into {bin_file} (once; reused while the file and "
              "tokenizer are unchanged)", file=sys.stderr, flush=True)
        meta = {"format": FORMAT, **source, **tokenise(dataset, tokenizer, bin_file, source["dtype"])}
        _unchanged_since(Path(dataset.path), before, bin_file)
        atomic_write_text(meta_file, json.dumps(meta, indent=2) + "\n", mode=0o600)  # holds corpus lines
    return bin_file, meta


def _unchanged_since(path: Path, before: tuple[str, int, int, int, int], bin_file: Path) -> None:
    """Refuse ids tokenised from a file that changed after it was hashed: the cache would be keyed by
    bytes other than the ones it holds, and served as theirs on the next run."""
    if stamp(str(path)) != before:  # any write moves the ctime, which no one can set back
        bin_file.unlink(missing_ok=True)
        raise TrainingConfigError(
            f"{path} changed while it was being tokenised, so its token ids were not kept (they could "
            "mix two versions of the file). Fix: run again once nothing is writing to it.")


def streamed_splits(cfg: Mapping[str, Any], dataset: Any, tokenizer: Any,
                    val_fraction: float) -> TokenSplits | None:
    """Memory-mapped splits for a line-file dataset; ``None`` for any other dataset."""
    from codex_ml.data.lines import LinesDataset

    if not isinstance(dataset, LinesDataset):
        return None
    if not 0 < val_fraction < 1:
        raise TrainingConfigError(
            f"dataset_loader.val_fraction must be between 0 and 1, found {val_fraction}.")
    bin_file, meta = cached_tokens(cfg, dataset, tokenizer)
    total = int(meta["tokens"])
    cut = total - max(int(total * val_fraction), 1)
    train = TokenStream(bin_file, meta["dtype"], 0, cut)
    val = TokenStream(bin_file, meta["dtype"], cut, total)
    prompts = [str(line) for line in meta["tail"]]
    stream: Any = (train, val)  # TokenSplits documents lists; token_windows reads streams too
    return TokenSplits(train=stream[0], val=stream[1], train_texts=[], val_texts=prompts)
