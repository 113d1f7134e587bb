"""A byte-level tokenizer that needs no files: the ``offline:bytes`` catalogue entry.

Ids ``0..255`` are the UTF-8 bytes of the text; ``256`` is ``<pad>``, ``257``
``<bos>`` and ``258`` ``<eos>``, so ``vocab_size`` is 259. Any text encodes
without unknown tokens, which makes it the default tokenizer for training the
small in-package language models on the tiny corpus.
"""

from __future__ import annotations

from collections.abc import Iterable

N_BYTES = 256


class ByteTokenizer:
    """UTF-8 bytes as token ids, plus ``<pad>``/``<bos>``/``<eos>``."""

    pad_token_id = N_BYTES
    bos_token_id = N_BYTES + 1
    eos_token_id = N_BYTES + 2
    unk_token_id = None
    vocab_size = N_BYTES + 3

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """UTF-8 bytes of ``text``; with ``add_special_tokens`` wrapped in ``<bos>``/``<eos>``."""
        if not isinstance(text, str):
            raise TypeError(f"encode() takes a str, got {type(text).__name__}")
        ids = list(text.encode("utf-8"))
        return [self.bos_token_id, *ids, self.eos_token_id] if add_special_tokens else ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids`` (invalid UTF-8 becomes U+FFFD); special ids are skipped or written as names."""
        out = bytearray()
        names = {
            self.pad_token_id: b"<pad>",
            self.bos_token_id: b"<bos>",
            self.eos_token_id: b"<eos>",
        }
        for raw in ids:
            idx = int(raw)
            if 0 <= idx < N_BYTES:
                out.append(idx)
            elif idx in names:
                out.extend(b"" if skip_special_tokens else names[idx])
            else:
                raise ValueError(
                    f"token id {idx} is outside the byte vocabulary (0..{self.vocab_size - 1})"
                )
        return out.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return "ByteTokenizer(vocab_size=259)"


def build_byte_tokenizer() -> ByteTokenizer:
    """Catalogue factory of ``offline:bytes``."""
    return ByteTokenizer()
