"""Hugging Face tokenizers from local folders only: ``hf``, ``gpt2-offline``, ``tinyllama-offline``.

Nothing here contacts the Hub: the offline flags are set and every call
passes ``local_files_only=True``. Folders are found through
:mod:`codex_ml.catalogue.paths` and checked against an optional
``SHA256SUMS`` manifest before they are read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from codex_ml.catalogue import integrity, paths
from codex_ml.tokenizers.sentencepiece_model import SentencePieceTokenizer

OFFLINE_FLAGS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


def force_offline() -> None:
    """Turn the Hugging Face offline mode on for this process, even after the libraries were imported.

    huggingface_hub reads its flag once, at import: a program that imported
    transformers before asking codex_ml for a model would otherwise go online
    (docs/guides/offline_catalogue.md, "Nothing goes online").
    """
    for flag in OFFLINE_FLAGS:
        os.environ[flag] = "1"
    for module, flags in (("huggingface_hub.constants", ("HF_HUB_OFFLINE",)),
                          ("datasets.config", ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))):
        loaded = sys.modules.get(module)
        for flag in flags if loaded is not None else ():
            setattr(loaded, flag, True)


def _finish(tokenizer: Any) -> Any:
    """Give the tokenizer a pad token (its eos) when it has none, as causal-LM training needs one."""
    if (
        getattr(tokenizer, "pad_token", "x") is None
        and getattr(tokenizer, "eos_token", None) is not None
    ):
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_local_tokenizer(folder: Path, **kwargs: Any) -> Any:
    """``AutoTokenizer.from_pretrained(folder, local_files_only=True)`` with a clear error on failure."""
    force_offline()
    integrity.verify_directory(folder, skip_suffixes=integrity.WEIGHT_SUFFIXES)
    from transformers import AutoTokenizer

    kwargs.setdefault("local_files_only", True)
    try:
        return _finish(AutoTokenizer.from_pretrained(str(folder), **kwargs))
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(
            f"could not load a Hugging Face tokenizer from {folder}: {exc}. The folder needs a "
            "tokenizer.json, or vocab.json and merges.txt, or a tokenizer.model (and tokenizer_config.json)."
        ) from exc


def build_hf_tokenizer(name_or_path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Any:
    """Catalogue factory of ``hf``: a tokenizer from a local folder (or the local HF cache), never the network."""
    name_or_path = kwargs.pop("path", None) if name_or_path is None else name_or_path
    if name_or_path is None or os.fspath(name_or_path) == "":
        raise ValueError(
            "the 'hf' tokenizer needs name_or_path: a local tokenizer folder, e.g. "
            "tokenizer.name=hf tokenizer.name_or_path=artifacts/models/gpt2"
        )
    folder = Path(os.path.expanduser(os.fspath(name_or_path)))
    if folder.is_dir():
        return load_local_tokenizer(folder, **kwargs)
    if folder.exists():
        raise ValueError(
            f"hf tokenizer: {folder} is a file; pass the folder that holds the tokenizer files"
        )
    return _from_local_cache(os.fspath(name_or_path), **kwargs)


def _from_local_cache(name: str, **kwargs: Any) -> Any:
    force_offline()
    from transformers import AutoTokenizer

    try:
        return _finish(AutoTokenizer.from_pretrained(name, local_files_only=True, **kwargs))
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(
            f"hf tokenizer: {name!r} is not a local folder and is not in the local Hugging Face cache. "
            "codex_ml never downloads; copy the tokenizer files into a folder and pass its path as "
            "tokenizer.name_or_path."
        ) from exc


def build_gpt2_tokenizer(path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Any:
    """Catalogue factory of the ``gpt2-offline`` tokenizer (``artifacts/models/gpt2/``)."""
    return load_local_tokenizer(paths.resolve("gpt2_tokenizer", path), **kwargs)


def build_tinyllama_tokenizer(path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Any:
    """Catalogue factory of the ``tinyllama-offline`` tokenizer.

    ``tokenizer.json`` is loaded with transformers when the folder has one;
    otherwise ``tokenizer.model`` is read with sentencepiece directly.
    """
    folder = paths.resolve("tinyllama_tokenizer", path)
    if (folder / "tokenizer.json").is_file():
        return load_local_tokenizer(folder, **kwargs)
    model_file = folder / "tokenizer.model"
    if not model_file.is_file():
        raise FileNotFoundError(
            f"tinyllama-offline tokenizer: {folder} has neither tokenizer.json nor tokenizer.model; "
            "copy the tokenizer files of the checkpoint into it"
        )
    integrity.verify_directory(folder, skip_suffixes=integrity.WEIGHT_SUFFIXES)
    return SentencePieceTokenizer(model_file)
