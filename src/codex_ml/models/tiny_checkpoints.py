"""Write tiny, randomly initialised GPT-2 and Llama checkpoints for offline smoke tests and CI.

They have the layout of the real ``artifacts/models/gpt2/`` and
``artifacts/models/tinyllama/`` folders (``config.json``, weights, tokenizer
files), so every offline preset can be exercised without downloading
anything. The tokenizers are trained on the tiny corpus. Nothing here is
imported when the catalogue is listed::

    python -m codex_ml.models.tiny_checkpoints artifacts/models   # writes gpt2/ and tinyllama/
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from codex_ml.catalogue import paths

WEIGHT_FORMATS = ("safetensors", "bin")
VOCAB_SIZE = 320


def _corpus_lines(corpus: str | os.PathLike[str] | None) -> list[str]:
    file = paths.resolve("tiny_corpus", corpus)
    return [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]


def _save_weights(model: Any, folder: Path, weights: str) -> None:
    if weights not in WEIGHT_FORMATS:
        raise ValueError(f"weights must be one of {WEIGHT_FORMATS}, got {weights!r}")
    if weights == "safetensors":
        model.save_pretrained(str(folder), safe_serialization=True)
        return
    import torch

    model.config.save_pretrained(str(folder))
    state = {k: v.contiguous().clone() for k, v in model.state_dict().items()}
    torch.save(state, folder / "pytorch_model.bin")


def _bpe_tokenizer(lines: Sequence[str], vocab_size: int, specials: list[str]) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(lines, trainer=trainer)
    return tok


def write_tiny_gpt2(
    folder: str | os.PathLike[str],
    *,
    weights: str = "safetensors",
    corpus: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> Path:
    """A 2-layer GPT-2 (d=32) with a byte-level BPE tokenizer (tokenizer.json) in ``folder``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tok = _bpe_tokenizer(_corpus_lines(corpus), VOCAB_SIZE, ["<|endoftext|>"])
    eos = tok.token_to_id("<|endoftext|>")
    hf_tok = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok,
        eos_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    hf_tok.save_pretrained(str(out))
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=tok.get_vocab_size(),
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    _save_weights(GPT2LMHeadModel(config), out, weights)
    return out


def _sentencepiece_model(lines: Iterable[str], folder: Path, vocab_size: int) -> Path:
    import sentencepiece as spm

    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "corpus.txt"
        text.write_text("\n".join(lines) + "\n", encoding="utf-8")
        prefix = Path(tmp) / "tokenizer"
        spm.SentencePieceTrainer.Train(
            input=str(text),
            model_prefix=str(prefix),
            vocab_size=vocab_size,
            model_type="bpe",
            unk_id=0,
            bos_id=1,
            eos_id=2,
            pad_id=-1,
            minloglevel=2,
            byte_fallback=True,
        )
        target = folder / "tokenizer.model"
        target.write_bytes(prefix.with_suffix(".model").read_bytes())
    return target


def _llama_json_tokenizer(lines: Sequence[str], folder: Path, vocab_size: int) -> None:
    from transformers import PreTrainedTokenizerFast

    tok = _bpe_tokenizer(lines, vocab_size, ["<unk>", "<s>", "</s>"])
    hf_tok = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    hf_tok.save_pretrained(str(folder))


def write_tiny_llama(
    folder: str | os.PathLike[str],
    *,
    weights: str = "safetensors",
    tokenizer: str = "sentencepiece",
    corpus: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> Path:
    """A 2-layer Llama (d=32) with ``tokenizer.model`` (``"sentencepiece"``) or ``tokenizer.json`` (``"json"``)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    if tokenizer not in ("sentencepiece", "json"):
        raise ValueError(f"tokenizer must be 'sentencepiece' or 'json', got {tokenizer!r}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    lines = _corpus_lines(corpus)
    if tokenizer == "sentencepiece":
        _sentencepiece_model(lines, out, VOCAB_SIZE)
        (out / "tokenizer_config.json").write_text('{"model_max_length": 64}\n', encoding="utf-8")
    else:
        _llama_json_tokenizer(lines, out, VOCAB_SIZE)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
    )
    _save_weights(LlamaForCausalLM(config), out, weights)
    return out


def write_manifest(folder: str | os.PathLike[str]) -> Path:
    """Write ``SHA256SUMS`` for every file in ``folder`` (what ``sha256sum * > SHA256SUMS`` does)."""
    root = Path(folder)
    lines = []
    for file in sorted(p for p in root.iterdir() if p.is_file() and p.name != "SHA256SUMS"):
        lines.append(f"{hashlib.sha256(file.read_bytes()).hexdigest()}  {file.name}")
    manifest = root / "SHA256SUMS"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write tiny random gpt2/ and tinyllama/ checkpoints."
    )
    parser.add_argument(
        "root", help="folder to write gpt2/ and tinyllama/ into, e.g. artifacts/models"
    )
    parser.add_argument("--weights", choices=WEIGHT_FORMATS, default="safetensors")
    parser.add_argument(
        "--manifest", action="store_true", help="also write SHA256SUMS in each folder"
    )
    args = parser.parse_args(argv)
    root = Path(args.root)
    for folder in (
        write_tiny_gpt2(root / "gpt2", weights=args.weights),
        write_tiny_llama(root / "tinyllama", weights=args.weights),
    ):
        if args.manifest:
            write_manifest(folder)
        print(f"wrote {folder}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
