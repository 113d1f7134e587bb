"""``offline:tiny-corpus``: the few hundred lines of ``data/offline/tiny_corpus.txt`` as a sequence.

The file is found through :mod:`codex_ml.catalogue.paths` (explicit path,
``CODEX_ML_TINY_CORPUS_PATH``, ``CODEX_ML_OFFLINE_DATASETS_DIR``, the working
directory, then the copy in the package). Blank lines are dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

from codex_ml.catalogue import paths
from codex_ml.catalogue.integrity import verify_file
from codex_ml.catalogue.jsonfile import FixtureError


class TinyCorpus(Sequence[str]):
    """The tiny corpus: an in-memory sequence of text records (one per non-blank line)."""

    def __init__(self, texts: Sequence[str], path: Path | None = None) -> None:
        self.texts = list(texts)
        self.path = path

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TinyCorpus:
        file = Path(path)
        verify_file(file)
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise FixtureError(
                f"tiny corpus {file} is not UTF-8 text ({exc}); save it as UTF-8"
            ) from exc
        texts = [line.strip() for line in text.splitlines() if line.strip()]
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


def load_tiny_corpus(path: str | os.PathLike[str] | None = None) -> TinyCorpus:
    """Catalogue factory of ``offline:tiny-corpus``."""
    return TinyCorpus.from_file(paths.resolve("tiny_corpus", path))
