"""``load_model_and_tokenizer``: the registry first, then a local Hugging Face checkpoint (docs/compatibility.md).

A name registered in :data:`codex_ml.registry.model_registry` is built by its
factory, which may return a ``(model, tokenizer)`` tuple, a mapping with
``model``/``tokenizer`` keys, an object with ``model`` and ``tokenizer``
attributes, or just the model (the tokenizer then comes from the tokenizer
registry entry of the same name, if there is one). With
``CODEX_MODEL_REGISTRY_DISABLE=1`` the registry is skipped. Otherwise
``name_or_path`` must be a local checkpoint folder (or a model already in
the local Hugging Face cache): nothing is downloaded.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from codex_ml.catalogue.paths import RESOURCES
from codex_ml.registry._interfaces import split_model_and_tokenizer as split_model_and_tokenizer


def is_hf_model(model: Any) -> bool:
    """A ``transformers`` model, or a peft wrapper around one.

    Never imports transformers (seconds): an object of one of its classes can
    only exist once transformers' modeling code has been imported.
    """
    import sys

    modeling_utils = sys.modules.get("transformers.modeling_utils")
    if modeling_utils is None:
        return False
    base = getattr(model, "get_base_model", lambda: model)()
    return isinstance(base, modeling_utils.PreTrainedModel)


def registered_model(name: str, *, even_if_disabled: bool = False) -> bool:
    """Whether ``name`` should be built by the model registry (``False`` when it is disabled)."""
    from codex_ml import registry

    if registry.registry_disabled() and not even_if_disabled:
        return False
    try:
        return name in registry.model_registry
    except (ValueError, TypeError):  # not a valid registry name, e.g. a path with spaces
        return False


def hints(dtype: Any, device: Any) -> dict[str, Any]:
    """The dtype/device hints a factory receives (only those given)."""
    return {k: v for k, v in (("dtype", dtype), ("device", device)) if v is not None}


def load_tokenizer(name_or_path: str | os.PathLike[str]) -> Any:
    """A tokenizer by registry name, else from a local folder with the ``hf`` loader."""
    from codex_ml import registry
    from codex_ml.tokenizers.hf import build_hf_tokenizer

    name = os.fspath(name_or_path)
    try:
        known = name in registry.tokenizer_registry
    except (ValueError, TypeError):
        known = False
    return registry.tokenizer_registry.create(name) if known else build_hf_tokenizer(name)


def _has_tokenizer_files(folder: Path) -> bool:
    return any((folder / m).is_file() for m in RESOURCES["gpt2_tokenizer"].markers)


def local_model(name: str, *, dtype: Any = None, device: Any = None, **kwargs: Any) -> Any:
    """A causal LM from a local folder or the local HF cache; a clear error if it is neither."""
    from codex_ml.models.hf_offline import load_local_causal_lm
    from codex_ml.tokenizers.hf import force_offline
    from codex_ml.utils.dtypes import resolve_dtype

    folder = Path(os.path.expanduser(name))
    if folder.is_dir():
        return load_local_causal_lm(folder, dtype=dtype, device=device, **kwargs)
    force_offline()
    from transformers import AutoModelForCausalLM

    if resolve_dtype(dtype) is not None:
        kwargs["dtype"] = resolve_dtype(dtype)
    try:
        model = AutoModelForCausalLM.from_pretrained(name, local_files_only=True, **kwargs)
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(_no_model(name, folder)) from exc
    return model.to(device) if device is not None else model


def _no_model(name: str, folder: Path) -> str:
    """Why ``name`` gave no model: not registered (or the registry switched off), and no local copy."""
    from codex_ml import registry

    where = f"a local checkpoint folder (looked for {folder.resolve()}) nor in the local Hugging Face cache"
    never = "codex_ml never downloads"
    if registry.registry_disabled() and registered_model(name, even_if_disabled=True):
        return (f"model {name!r} is registered, but CODEX_MODEL_REGISTRY_DISABLE=1 bypasses registered models, "
                f"and it is neither {where}; {never}. Fix: unset CODEX_MODEL_REGISTRY_DISABLE to use the "
                "registered model, or pass the path of a folder with config.json and weights.")
    return (f"model {name!r} is not a registered model ({', '.join(registry.model_registry.list())}) nor "
            f"{where}. {never}: pass a registered name or the path of a folder with config.json and weights.")


def _tokenizer_for(name: str, tokenizer_name_or_path: Any, from_registry: bool) -> Any:
    from codex_ml import registry

    if tokenizer_name_or_path is not None:
        return load_tokenizer(tokenizer_name_or_path)
    if from_registry:
        return (
            registry.tokenizer_registry.create(name)
            if name in registry.tokenizer_registry
            else None
        )
    folder = Path(os.path.expanduser(name))
    if folder.is_dir() and not _has_tokenizer_files(folder):
        warnings.warn(f"{folder} has no tokenizer files; returning tokenizer=None", stacklevel=3)
        return None
    return load_tokenizer(name)


def load_model_and_tokenizer(
    name_or_path: str | os.PathLike[str],
    *,
    tokenizer_name_or_path: Any = None,
    dtype: Any = None,
    device: Any = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for a registered model name or a local checkpoint folder."""
    from codex_ml import registry

    name = os.fspath(name_or_path)
    if registered_model(name):
        model, tokenizer = split_model_and_tokenizer(
            registry.model_registry.create(name, **hints(dtype, device), **kwargs)
        )
        if tokenizer is None:
            tokenizer = _tokenizer_for(name, tokenizer_name_or_path, True)
        return model, tokenizer
    model = local_model(name, dtype=dtype, device=device, **kwargs)
    return model, _tokenizer_for(name, tokenizer_name_or_path, False)
