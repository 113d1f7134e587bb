"""Applying LoRA adapters with peft: options, default target modules, wrapping.

LoRA options are a mapping with ``r`` (rank, default 8), ``alpha`` (or
``lora_alpha``, default 16), ``dropout`` (or ``lora_dropout``, default 0.05),
``target_modules`` (default: ``q_proj``/``v_proj`` when the model has them,
else GPT-2's ``c_attn``) and ``bias`` (default ``"none"``); ``True`` means
all defaults; a ``peft.LoraConfig`` is used as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codex_ml.utils.modeling import is_hf_model

_ALIASES = {
    "lora_alpha": "alpha",
    "lora_dropout": "dropout",
    "rank": "r",
    "lora_r": "r",
    "lora_target_modules": "target_modules",
}
_DEFAULTS: dict[str, Any] = {
    "r": 8,
    "alpha": 16,
    "dropout": 0.05,
    "target_modules": None,
    "bias": "none",
}
_PREFERRED = (("q_proj", "v_proj"), ("c_attn",), ("query", "value"))


def lora_options(lora: Any) -> dict[str, Any]:
    """Validated LoRA options from ``True`` or a mapping (aliases accepted)."""
    if lora is True:
        return dict(_DEFAULTS)
    if not isinstance(lora, Mapping):
        raise TypeError(
            f"lora must be True, a mapping of LoRA options or a peft.LoraConfig, got {lora!r}"
        )
    opts = dict(_DEFAULTS)
    for key, value in lora.items():
        name = _ALIASES.get(key, key)
        if name not in _DEFAULTS:
            raise ValueError(
                f"unknown LoRA option {key!r}; accepted: {sorted(_DEFAULTS)} (aliases {sorted(_ALIASES)})"
            )
        opts[name] = value
    r = opts["r"]
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ValueError(f"LoRA rank r must be a positive integer, got {r!r}")
    if not 0.0 <= float(opts["dropout"]) < 1.0:
        raise ValueError(f"LoRA dropout must be in [0, 1), got {opts['dropout']!r}")
    if isinstance(opts["target_modules"], str):
        opts["target_modules"] = [opts["target_modules"]]
    return opts


def linear_module_names(model: Any) -> set[str]:
    """Last name component of every linear-like leaf module (``nn.Linear``, GPT-2's ``Conv1D``)."""
    names = set()
    for full, module in model.named_modules():
        if type(module).__name__ in ("Linear", "Conv1D") and full:
            names.add(full.rsplit(".", 1)[-1])
    return names


def default_target_modules(model: Any) -> list[str]:
    """``q_proj``/``v_proj`` (Llama, codex decoder), ``c_attn`` (GPT-2) or ``query``/``value``."""
    present = linear_module_names(model)
    for group in _PREFERRED:
        if all(name in present for name in group):
            return list(group)
    raise ValueError(
        f"cannot guess LoRA target modules for {type(model).__name__}; pass lora={{'target_modules': [...]}} "
        f"with some of its linear layers: {sorted(present)}"
    )


def apply_lora(model: Any, lora: Any) -> Any:
    """Wrap ``model`` with LoRA adapters (peft); only the adapters stay trainable."""
    from codex_ml.tokenizers.hf import force_offline

    force_offline()  # peft imports transformers and huggingface_hub
    from peft import LoraConfig, get_peft_model

    if isinstance(lora, LoraConfig):
        return get_peft_model(model, lora)
    opts = lora_options(lora)
    targets = opts["target_modules"] or default_target_modules(model)
    missing = [t for t in targets if t not in linear_module_names(model)]
    if missing:
        raise ValueError(
            f"LoRA target modules {missing} are not linear layers of {type(model).__name__}; "
            f"choose from {sorted(linear_module_names(model))}"
        )
    conv1d = any(
        type(m).__name__ == "Conv1D" and n.rsplit(".", 1)[-1] in targets
        for n, m in model.named_modules()
    )
    config = LoraConfig(
        r=opts["r"],
        lora_alpha=opts["alpha"],
        lora_dropout=float(opts["dropout"]),
        target_modules=list(targets),
        bias=opts["bias"],
        fan_in_fan_out=conv1d,
        task_type="CAUSAL_LM" if is_hf_model(model) else None,
    )
    return get_peft_model(model, config)


def apply_lora_config(model: Any, section: Any) -> Any:
    """``model.lora`` of a run config: ``r: null`` (the default) leaves ``model`` as is.

    ``codex-ml train model.lora.r=8 model.lora.target_modules=[q_proj,v_proj]``
    wraps the model with peft adapters; only they are trained and checkpointed
    with the rest of the weights, so resume, evaluate and export rebuild the
    same wrapping from ``config.yaml``.
    """
    if section is None or (isinstance(section, Mapping) and section.get("r") is None):
        return model
    if not isinstance(section, Mapping):
        raise TypeError(f"model.lora must be a mapping of LoRA options (r, alpha, dropout, "
                        f"target_modules, bias), got {section!r}")
    return apply_lora(model, {k: v for k, v in section.items() if v is not None})


def parameter_counts(model: Any) -> dict[str, int]:
    """Trainable and total parameters (a LoRA run trains a small fraction)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable": int(trainable), "total": int(sum(p.numel() for p in model.parameters()))}
