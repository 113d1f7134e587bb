"""Model loading with optional LoRA (docs/compatibility.md): see :mod:`codex_ml.modeling.codex_model_loader`."""

from __future__ import annotations
