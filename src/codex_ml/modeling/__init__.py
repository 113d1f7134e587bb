"""Model loading with optional LoRA (seed 000): see :mod:`codex_ml.modeling.codex_model_loader`."""

from __future__ import annotations
