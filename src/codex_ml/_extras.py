"""Which optional extra provides which import, so a missing one is named, not a traceback.

Stdlib only and cheap: the minimal install (``pip install codex-ml``, no
extras) uses it to say ``pip install "codex-ml[cli]"`` instead of failing.
"""
from __future__ import annotations

import importlib.util
import re

# The extras of pyproject.toml and the top-level modules each one brings.
EXTRAS: dict[str, tuple[str, ...]] = {
    "torch": ("torch", "safetensors"),
    "hf": ("transformers", "tokenizers", "peft", "sentencepiece"),
    "cli": ("typer", "rich", "hydra", "omegaconf", "yaml"),
    "sweep": ("optuna", "joblib", "submitit"),
}
MODULE_EXTRA = {module: extra for extra, modules in EXTRAS.items() for module in modules}
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")


def install_hint(extra: str) -> str:
    return f'pip install "codex-ml[{extra}]"'


def needs_extra(what: str, exc: BaseException) -> str | None:
    """``<what> needs the optional extra [x] ... Fix: ...`` when ``exc`` is an extra's missing module."""
    found = missing_extra(exc)
    if found is None:
        return None
    return (f"{what} needs the optional extra [{found[0]}] (no module {found[1]!r}). "
            f"Fix: {install_hint(found[0])}.")


def extra_for_module(module: str | None) -> str | None:
    """The extra that provides ``module`` (``torch.nn`` -> ``torch``), if any."""
    return MODULE_EXTRA.get((module or "").split(".")[0])


def extra_in_text(text: str) -> str | None:
    """The extra behind a ``No module named 'x'`` message, if any."""
    found = _NO_MODULE.search(text)
    return extra_for_module(found.group(1)) if found else None


def missing_extra(exc: BaseException) -> tuple[str, str] | None:
    """``(extra, module)`` when ``exc`` (or its cause) is an extra's module not being installed."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError):
            extra = extra_for_module(seen.name)
            if extra:
                return extra, str(seen.name)
        seen = seen.__cause__ or seen.__context__
    return None


def missing_extras() -> dict[str, list[str]]:
    """``{extra: [its modules that are not installed]}`` for every extra not fully installed."""
    out: dict[str, list[str]] = {}
    for extra, modules in EXTRAS.items():
        absent = [m for m in modules if importlib.util.find_spec(m) is None]
        if absent:
            out[extra] = absent
    return out
