"""``load_model_with_optional_lora``: load through the registry (or a local checkpoint), then LoRA.

docs/compatibility.md: a registered factory's return value is forwarded as is (a model, a
``(model, tokenizer)`` tuple, a mapping or an object); when LoRA is asked for,
the model inside is wrapped with peft and put back in the same shape.
``CODEX_MODEL_REGISTRY_DISABLE=1`` skips the registry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from codex_ml.modeling.lora import apply_lora
from codex_ml.utils.modeling import hints, local_model, registered_model

_FLAT_LORA = ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules")


def _lora_request(lora: Any, lora_enabled: bool, flat: dict[str, Any]) -> Any:
    """Merge ``lora=...`` with the flat ``lora_enabled``/``lora_r``/... spelling; ``None`` = no LoRA."""
    given = {k: v for k, v in flat.items() if v is not None}
    if lora is None and not lora_enabled:
        if given:
            raise ValueError(
                f"LoRA options {sorted(given)} were given without lora_enabled=True or lora=..."
            )
        return None
    if lora is False:
        return None
    if lora is None or lora is True:
        return given or True
    return {**dict(lora), **given} if isinstance(lora, Mapping) else lora


def _with_lora(result: Any, request: Any) -> Any:
    """Apply LoRA to the model inside ``result``, keeping ``result``'s shape."""
    if isinstance(result, tuple):
        return (apply_lora(result[0], request), *result[1:])
    if isinstance(result, Mapping):
        return {**result, "model": apply_lora(result["model"], request)}
    if hasattr(result, "model") and (
        hasattr(result, "tokenizer") or not hasattr(result, "forward")
    ):
        result.model = apply_lora(result.model, request)
        return result
    return apply_lora(result, request)


def load_model_with_optional_lora(
    name_or_path: str | os.PathLike[str],
    *,
    lora: Any = None,
    lora_enabled: bool = False,
    dtype: Any = None,
    device: Any = None,
    **kwargs: Any,
) -> Any:
    """The model for ``name_or_path`` (whatever its factory returns), with LoRA when asked.

    ``lora``: ``None``/``False`` (none), ``True`` (defaults), a mapping
    (``r``, ``alpha``, ``dropout``, ``target_modules``, ``bias``) or a
    ``peft.LoraConfig``. The flat spelling ``lora_enabled=True, lora_r=...,
    lora_alpha=..., lora_dropout=..., lora_target_modules=...`` works too.
    """
    flat = {k: kwargs.pop(k, None) for k in _FLAT_LORA}
    request = _lora_request(lora, lora_enabled, flat)
    name = os.fspath(name_or_path)
    if registered_model(name):
        from codex_ml import registry

        result = registry.model_registry.create(name, **hints(dtype, device), **kwargs)
    else:
        result = local_model(name, dtype=dtype, device=device, **kwargs)
    return result if request is None else _with_lora(result, request)
