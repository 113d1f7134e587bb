"""``lines``: stream a text file one line at a time, in constant memory.

``LinesDataset(path)`` is an iterable: each ``iter()`` opens the file afresh
and yields its lines lazily (never the whole file in memory), so it can be
iterated once per epoch. Line breaks (``\\n`` or ``\\r\\n``) are removed.
Each open refuses what is not a regular file and never blocks (a FIFO swapped
in after the constructor's check is an error, not a hang).
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from codex_ml.registry._fsafe import open_file


def _check_path(path: str | os.PathLike[str] | None) -> Path:
    if path is None or os.fspath(path) == "":
        raise ValueError(
            "the 'lines' dataset needs path: a plain-text file, e.g. dataset_loader.path=data/train.txt"
        )
    file = Path(os.path.expanduser(os.fspath(path)))
    if not file.exists():
        raise FileNotFoundError(
            f"lines dataset: {file} does not exist (resolved from the working directory {Path.cwd()}); "
            "pass the path of an existing text file"
        )
    if not file.is_file():
        raise ValueError(
            f"lines dataset: {file} is not a regular file; pass a text file, not a folder"
        )
    return file


class LinesDataset:
    """Iterable over the lines of ``path``.

    ``skip_blank`` drops lines that are empty after stripping; ``strip`` also
    removes surrounding whitespace; ``limit`` stops after that many records.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        encoding: str = "utf-8",
        strip: bool = False,
        skip_blank: bool = False,
        limit: int | None = None,
    ) -> None:
        self.path = _check_path(path)
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValueError(
                f"lines dataset: limit must be a non-negative integer or None, got {limit!r}"
            )
        self.encoding = encoding
        self.strip = strip
        self.skip_blank = skip_blank
        self.limit = limit

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._records()
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"lines dataset: {self.path} is not valid {self.encoding} text ({exc}); "
                "pass encoding=... (e.g. dataset_loader.kwargs.encoding=latin-1) or fix the file"
            ) from exc

    def _records(self) -> Iterator[str]:
        stream = open_file(self.path, trusted=False)
        with io.TextIOWrapper(stream, encoding=self.encoding, newline=None) as handle:
            if not (self.strip or self.skip_blank or self.limit is not None):
                for raw in handle:  # the common case, kept as cheap as a plain loop
                    yield raw.rstrip("\n")
                return
            yield from itertools.islice(self._filtered(handle), self.limit)

    def _filtered(self, handle: Iterable[str]) -> Iterator[str]:
        for raw in handle:
            line = raw.strip() if self.strip else raw.rstrip("\n")
            if not (self.skip_blank and not line.strip()):
                yield line

    def __repr__(self) -> str:
        return f"LinesDataset(path={str(self.path)!r})"
