"""``gpt2-offline`` and ``tinyllama-offline``: Hugging Face causal LMs from local folders only.

Loading never touches the network: the offline flags are set and
``local_files_only=True`` is passed. An optional ``SHA256SUMS`` manifest in
the folder is checked first. Weights are read from, in order of preference,
``model.safetensors`` (or its sharded index), then ``pytorch_model.bin`` (or
its sharded index). ``.bin`` files are opened with
``torch.load(weights_only=True)``: a pickle that would run code is refused
with :class:`UnsafeCheckpointError`, never executed. A checkpoint that lacks
some of the model's weights is refused too, instead of being silently filled
with random values.

Everything loaded stays inside the model folder: the weights file, and every
shard a ``*.index.json`` names, must resolve inside it (no absolute paths,
no ``..``, no symlinks that lead out) and be a regular file; a violation is
refused without a word about the outside file. The index itself is
validated (a JSON object whose ``weight_map`` maps tensor names to shard
file names, a flat ``metadata``) and every problem names the index file.
"""

from __future__ import annotations

import os
import pickle
import stat
import zipfile
from pathlib import Path
from typing import Any

from codex_ml.catalogue import integrity, paths
from codex_ml.catalogue.jsonfile import parse_json
from codex_ml.registry._errors import UnsafeFileError
from codex_ml.registry._fsafe import read_small_file
from codex_ml.tokenizers.hf import force_offline
from codex_ml.utils.dtypes import resolve_dtype

SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")
TORCH_BIN = ("pytorch_model.bin", "pytorch_model.bin.index.json")
MAX_INDEX_BYTES = 64 << 20  # the index of a 400B-parameter model is a few MB
_SCALARS = (str, int, float, bool, type(None))


class UnsafeCheckpointError(ValueError):
    """A ``.bin`` checkpoint holds pickled objects other than tensors; it was not loaded."""


class IncompleteCheckpointError(ValueError):
    """A checkpoint does not provide every weight the model needs."""


class ShardIndexError(ValueError):
    """A sharded-weight index (``*.index.json``) is malformed or names a file it may not."""


def _inside(folder: Path, name: str, what: str) -> Path:
    """``folder / name`` if it stays inside the folder and is a regular file; the error names ``what``."""
    path = integrity.confined(folder, name)
    if path is None:
        raise ShardIndexError(
            f"{what} names {name!r}, which is not a file inside {folder}: no absolute paths, no '..', no "
            "symlinks that lead out of the model folder. Nothing outside was read. Copy the file into the "
            "folder (cp -L) and name it relative to the folder."
        )
    if not os.path.lexists(path):
        raise FileNotFoundError(f"{what} names {name!r}, but {path} is missing; restore the file")
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ShardIndexError(f"{what} names {name!r}, but {path} is not a regular file; refusing to read it")
    return path


def pick_weights(folder: Path) -> Path:
    """The weights file (or shard index) to load: safetensors first, then ``.bin``."""
    for name in (*SAFETENSORS, *TORCH_BIN):
        if os.path.lexists(folder / name):
            return _inside(folder, name, f"the model folder {folder}")
    raise FileNotFoundError(
        f"{folder} has no weights: expected one of {', '.join(SAFETENSORS + TORCH_BIN)}. "
        "Copy the checkpoint's weight files into the folder."
    )


def _reason(exc: BaseException) -> str:
    """The informative line of torch's weights_only error (which global was refused)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or "Unsupported" in line or "WeightsUnpickler error" in line:
            return line.split(". Please use")[0]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def safe_torch_load(file: Path) -> dict[str, Any]:
    """``torch.load(file, weights_only=True)``; anything but plain tensors is refused."""
    import torch

    mmap = zipfile.is_zipfile(file)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True, mmap=mmap)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError, EOFError) as exc:
        raise UnsafeCheckpointError(
            f"refusing to load {file}: torch.load(weights_only=True) rejected it, so it is not a plain "
            f"tensor checkpoint and unpickling it could run arbitrary code ({_reason(exc)}). Nothing in "
            "it was executed. Use a safetensors copy (model.safetensors) or re-save the weights from a "
            "trusted source."
        ) from exc
    if not isinstance(state, dict):
        raise UnsafeCheckpointError(
            f"refusing {file}: it holds a {type(state).__name__}, not a state dict"
        )
    return state


def read_index(index: Path) -> list[Path]:
    """The shard files a ``*.index.json`` names, each checked inside the folder; errors name the index."""
    try:
        text = read_small_file(index, max_bytes=MAX_INDEX_BYTES, follow_symlinks=True, trusted=False).decode("utf-8")
    except (UnsafeFileError, UnicodeDecodeError) as exc:
        raise ShardIndexError(f"shard index {index} cannot be read: {exc}") from exc
    data = parse_json(text, index, "shard index")
    weight_map = _index_shape(data, index)
    names = sorted(set(weight_map.values()))
    return [_inside(index.parent, name, f"shard index {index}") for name in names]


def _index_shape(data: Any, index: Path) -> dict[str, str]:
    fix = "Re-save the checkpoint with save_pretrained(), which writes a valid index."
    if not isinstance(data, dict):
        raise ShardIndexError(f"shard index {index} must hold a JSON object, found {type(data).__name__}. {fix}")
    weight_map = data.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise ShardIndexError(f"shard index {index} needs a non-empty 'weight_map' object. {fix}")
    bad = next(((k, v) for k, v in weight_map.items() if not isinstance(v, str) or not v), None)
    if bad is not None:
        raise ShardIndexError(
            f"shard index {index}: weight_map[{bad[0]!r}] must be a shard file name, found {bad[1]!r}. {fix}"
        )
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, _SCALARS) for v in metadata.values()):
        raise ShardIndexError(f"shard index {index}: 'metadata' must be a flat object of plain values. {fix}")
    unknown = sorted(set(data) - {"weight_map", "metadata"})
    if unknown:
        raise ShardIndexError(f"shard index {index} has unknown keys {unknown}. {fix}")
    return weight_map


def _bin_shards(weights: Path) -> list[Path]:
    return read_index(weights) if weights.name.endswith(".index.json") else [weights]


def _check_complete(info: dict[str, Any], folder: Path) -> None:
    missing = sorted(info.get("missing_keys") or ())
    mismatched = sorted(str(k) for k in info.get("mismatched_keys") or ())
    if missing or mismatched:
        raise IncompleteCheckpointError(
            f"the checkpoint in {folder} does not fit its config.json: missing weights {missing[:10]}, "
            f"mismatched shapes {mismatched[:10]}. The weights and config.json come from different models, "
            "or the weights file is truncated."
        )


def _load_bin(folder: Path, weights: Path, config: Any, kwargs: dict[str, Any]) -> Any:
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING

    state: dict[str, Any] = {}
    for shard in _bin_shards(weights):
        state.update(safe_torch_load(shard))
    try:
        found: Any = MODEL_FOR_CAUSAL_LM_MAPPING[type(config)]
    except KeyError:
        raise ValueError(
            f"{folder}/config.json describes a {type(config).__name__}, which has no causal-LM class "
            "in transformers; use a causal language model checkpoint"
        ) from None
    cls = next(c for c in found if c is not None) if isinstance(found, tuple) else found
    return cls.from_pretrained(
        None, config=config, state_dict=state, output_loading_info=True, **kwargs
    )


def load_local_causal_lm(
    folder: str | os.PathLike[str], *, dtype: Any = None, device: Any = None, **kwargs: Any
) -> Any:
    """A causal LM from a local checkpoint folder (config.json + weights), offline."""
    force_offline()
    root = Path(folder)
    integrity.verify_directory(root)
    weights = pick_weights(root)
    if weights.name.endswith(".index.json"):
        read_index(weights)  # every shard inside the folder, before transformers opens any
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(str(root), local_files_only=True)
    torch_dtype = resolve_dtype(dtype)
    if torch_dtype is not None:
        kwargs["dtype"] = torch_dtype
    loaded: Any
    if weights.name in SAFETENSORS:
        loaded = AutoModelForCausalLM.from_pretrained(
            str(root),
            config=config,
            local_files_only=True,
            use_safetensors=True,
            output_loading_info=True,
            **kwargs,
        )
    else:
        loaded = _load_bin(root, weights, config, kwargs)
    model, info = loaded
    _check_complete(info, root)
    model.eval()
    return model.to(device) if device is not None else model


def build_gpt2_offline(path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Any:
    """Catalogue factory of ``gpt2-offline`` (``artifacts/models/gpt2/``); returns the model."""
    return load_local_causal_lm(paths.resolve("gpt2", path), **kwargs)


def build_tinyllama_offline(path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Any:
    """Catalogue factory of ``tinyllama-offline`` (``artifacts/models/tinyllama/``); returns the model."""
    return load_local_causal_lm(paths.resolve("tinyllama", path), **kwargs)
