"""``offline:tiny-corpus``: the few hundred lines of ``data/offline/tiny_corpus.txt`` as a sequence.

The file is found through :mod:`codex_ml.catalogue.paths` (explicit path,
``CODEX_ML_TINY_CORPUS_PATH``, ``CODEX_ML_OFFLINE_DATASETS_DIR``, the working
directory, then the copy in the package). Blank lines are dropped. The file
is opened as every fixture is (:func:`codex_ml.catalogue.jsonfile.open_fixture`)
and streamed line by line, hashed as it goes for ``SHA256SUMS``: never read
whole, and at most :data:`MAX_CORPUS_BYTES` (use the ``lines`` dataset, which
streams, for anything bigger).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

from codex_ml.catalogue import paths
from codex_ml.catalogue.integrity import MANIFEST_NAME, mismatch, read_manifest
from codex_ml.catalogue.jsonfile import FixtureError, open_fixture

MAX_CORPUS_BYTES = 64 << 20


class TinyCorpus(Sequence[str]):
    """The tiny corpus: an in-memory sequence of text records (one per non-blank line)."""

    def __init__(self, texts: Sequence[str], path: Path | None = None) -> None:
        self.texts = list(texts)
        self.path = path

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TinyCorpus:
        file = Path(path)
        digest = hashlib.sha256()
        texts: list[str] = []
        with open_fixture(file, MAX_CORPUS_BYTES) as handle:
            for number, raw in enumerate(handle, 1):
                digest.update(raw)
                texts.extend(_line(raw, file, number))
        _check_digest(file, digest.hexdigest())
        if not texts:
            raise FixtureError(f"tiny corpus {file} has no text; put one sentence per line in it")
        return cls(texts, file)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self.texts[index]

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def __repr__(self) -> str:
        return f"TinyCorpus({len(self.texts)} records, path={str(self.path)!r})"


def _line(raw: bytes, file: Path, number: int) -> list[str]:
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise FixtureError(f"tiny corpus {file}:{number} is not UTF-8 text ({exc}); save it as UTF-8") from exc
    return [line] if line else []


def _check_digest(file: Path, actual: str) -> None:
    """The streamed bytes against ``SHA256SUMS`` beside the file, before any record is used."""
    manifest = file.parent / MANIFEST_NAME
    expected = read_manifest(manifest).get(file.name) if os.path.lexists(manifest) else None
    if expected is not None and expected != actual:
        raise mismatch(file, manifest, expected, actual)


def load_tiny_corpus(path: str | os.PathLike[str] | None = None) -> TinyCorpus:
    """Catalogue factory of ``offline:tiny-corpus``."""
    return TinyCorpus.from_file(paths.resolve("tiny_corpus", path))
