"""Datasets of the offline catalogue: ``lines`` (streams any text file) and ``offline:tiny-corpus``.

Both yield plain ``str`` records, one per line, without the line break.
"""

from __future__ import annotations

from codex_ml.data.lines import LinesDataset
from codex_ml.data.tiny_corpus import TinyCorpus, load_tiny_corpus

__all__ = ["LinesDataset", "TinyCorpus", "load_tiny_corpus"]
