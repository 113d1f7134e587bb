"""Turning dtype hints (``"bf16"``, ``"float16"``, ``torch.float32``, ``"auto"``) into torch dtypes."""

from __future__ import annotations

from typing import Any

_ALIASES = {
    "fp32": "float32",
    "float": "float32",
    "float32": "float32",
    "fp16": "float16",
    "half": "float16",
    "float16": "float16",
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp64": "float64",
    "double": "float64",
    "float64": "float64",
}


def resolve_dtype(value: Any) -> Any:
    """``None``/``"auto"`` -> ``None``; a name or alias -> ``torch.<dtype>``; a torch dtype as is."""
    if value is None or value == "auto":
        return None
    import torch

    if isinstance(value, torch.dtype):
        return value
    name = _ALIASES.get(str(value).lower().removeprefix("torch."))
    if name is None:
        raise ValueError(f"unknown dtype {value!r}; use one of {sorted(_ALIASES)} or 'auto'")
    return getattr(torch, name)
