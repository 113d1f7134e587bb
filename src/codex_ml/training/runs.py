"""Open a finished run from Python: ``load_run(run_dir, checkpoint="latest")``.

A run folder (see :mod:`codex_ml.training.rundir`) holds the resolved
``config.yaml`` and its checkpoints; the model and tokenizer are rebuilt by
name from that config (LoRA adapters included), from the files the run was
trained on (:func:`trained_config`, shared with ``evaluate``, ``generate``
and ``export``), and the chosen weights are loaded. ``checkpoint`` is ``latest``, ``best`` (the kept checkpoint with the
lowest validation loss in ``metrics.jsonl``) or ``step-N``. A folder written
by ``codex-ml export`` for the in-package models is read too (see
:mod:`codex_ml.training.export`).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from codex_ml.training import checkpoint as ckpt
from codex_ml.training.errors import CheckpointError, TrainingConfigError

EXPORT_MANIFEST = "codex_ml_model.json"
FORMAT = "codex_ml.decoder"  # the manifest's format, written by codex_ml.training.export
_STEP = re.compile(r"^step-(\d+)$")


def _kept(root: Path, required: tuple[str, ...]) -> dict[int, Path]:
    """``{step: folder}`` of every complete checkpoint under ``root`` (real folders, not links)."""
    found = {}
    for folder in root.glob("step-*"):
        match = _STEP.match(folder.name)
        if match and folder.is_dir() and not folder.is_symlink() and all(
                (folder / name).is_file() for name in required):
            found[int(match.group(1))] = folder
    return found


def _best(run_dir: Path, kept: dict[int, Path]) -> Path:
    from codex_ml.training.rundir import read_metrics

    losses = {int(r["step"]): float(r["loss"]) for r in read_metrics(run_dir)
              if r.get("split") == "val" and isinstance(r.get("loss"), (int, float))
              and int(r.get("step", -1)) in kept}
    if not losses:
        raise CheckpointError(
            f"checkpoint=best: no kept checkpoint of {run_dir} has a validation loss in "
            f"metrics.jsonl (kept steps: {sorted(kept) or 'none'}). Use checkpoint=latest or "
            "checkpoint=step-N.")
    return kept[min(losses, key=lambda step: (losses[step], -step))]


def select_checkpoint(run_dir: str | os.PathLike[str], which: Any = "latest",
                      required: tuple[str, ...] = (ckpt.WEIGHTS,)) -> Path:
    """The checkpoint folder ``which`` names: ``latest``, ``best`` or ``step-N``.

    ``required`` lists the files a complete checkpoint holds (PyTorch weights,
    or ``model.json`` for the tiny sequence model); ``evaluate``, ``generate``
    and ``load_run`` all choose their weights here.
    """
    run = Path(run_dir)
    root = run / "checkpoints"
    kept = _kept(root, required)
    choice = str(which or "latest").strip()
    if choice == "latest":
        folder = ckpt.latest_checkpoint(root, required=required)
        if folder is None and kept:
            names = ", ".join(kept[k].name for k in sorted(kept))
            raise CheckpointError(f"{root}/latest is missing, but {run} keeps {names}: pick one with "
                                  f"checkpoint={kept[max(kept)].name}.")
        if folder is None:
            raise CheckpointError(f"{run} has no checkpoint yet ({root}/latest is missing); train "
                                  "longer or pick another run.")
        return folder
    if choice == "best":
        return _best(run, kept)
    match = re.fullmatch(r"step-?(\d+)", choice)
    if match is None:
        raise TrainingConfigError(f"checkpoint={which!r} is not latest, best or step-N (e.g. "
                                  "step-200).")
    step = int(match.group(1))
    if step not in kept:
        names = ", ".join(kept[k].name for k in sorted(kept)) or "none"
        raise CheckpointError(f"checkpoint=step-{step}: {run} keeps no such checkpoint; kept "
                              f"checkpoints: {names}.")
    return kept[step]


def read_provenance(run_dir: Path) -> dict[str, Any]:
    """The run's ``provenance.json`` (empty for a run written before it existed)."""
    from codex_ml.training.provenance import PROVENANCE

    file = run_dir / PROVENANCE
    if not file.is_file():
        return {}
    data = json.loads(ckpt.read_small_file(file, 1 << 20))
    return data if isinstance(data, dict) else {}


def trained_config(run_dir: Path, recorded: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's ``config.yaml`` with its file-backed parts (model folder, tokenizer, data file)
    pointed at the files it was trained on, as ``provenance.json`` recorded them: a relative
    ``artifacts/...`` means the training's working folder, not today's. A recorded file that is
    gone (the project was moved) is searched for as at training time."""
    from codex_ml.training.provenance import pin_artefacts
    from codex_ml.training.rundir import read_config

    cfg = read_config(run_dir)
    pin_artefacts(cfg, read_provenance(run_dir) if recorded is None else recorded)
    return cfg


def build_from_config(cfg: dict[str, Any]) -> tuple[Any, Any]:
    """The run's ``(model, tokenizer)`` built by name, with random weights."""
    from codex_ml.training import components
    from codex_ml.training.jobs import seed_everything

    seed_everything(0, with_torch=not components.torch_free_model(cfg))
    tokenizer = components.build_tokenizer(cfg)
    return components.build_model(cfg, tokenizer, new_run=False)  # a finished run: never refused for its vocabulary


def load_run(run_dir: str | os.PathLike[str], checkpoint: str = "latest") -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a trained run, with the chosen checkpoint's weights, in eval mode.

    ``run_dir`` is a folder printed by ``codex-ml train`` or written by
    ``codex-ml export`` for an in-package model.
    """
    run = Path(run_dir)
    if (run / EXPORT_MANIFEST).is_file():
        return load_exported(run)
    from codex_ml.training.jobs import is_torch_model

    model, tokenizer = build_from_config(trained_config(run))
    if not is_torch_model(model):
        raise TrainingConfigError(
            f"{run} trained {type(model).__name__}, not a PyTorch model; load_run opens PyTorch "
            "runs only (use `codex-ml evaluate run_dir=...` for the tiny sequence model).")
    ckpt.load_weights(select_checkpoint(run, checkpoint), model)
    model.eval()
    return model, tokenizer


def _export_manifest(path: Path) -> dict[str, Any]:
    """The manifest ``codex-ml export`` wrote, or an error naming the file and what is wrong with it."""
    from codex_ml.registry._fsafe import read_small_file

    try:
        manifest: dict[str, Any] = json.loads(read_small_file(path, max_bytes=1 << 20))
    except ValueError as exc:
        raise TrainingConfigError(f"{path} is not valid JSON ({exc}); it was not written by codex-ml "
                                  "export, or was damaged. Fix: export the run again.") from None
    model = manifest.get("model") if isinstance(manifest, dict) else None
    if not isinstance(model, dict) or not isinstance(model.get("config"), dict) or \
            not isinstance(manifest.get("tokenizer"), dict):
        raise TrainingConfigError(f"{path} lacks model.config or tokenizer; it was not written by codex-ml "
                                  "export, or was edited. Fix: export the run again.")
    if manifest.get("format") != FORMAT:
        raise TrainingConfigError(f"{path} has format {manifest.get('format')!r}, not {FORMAT!r}; it was "
                                  "not written by codex-ml export.")
    return manifest


def load_exported(folder: Path) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a folder ``codex-ml export`` wrote for the in-package decoder."""
    from safetensors.torch import load_model

    from codex_ml.catalogue.integrity import require_safe_tree
    from codex_ml.models.decoder import DecoderConfig, DecoderOnlyLM

    require_safe_tree(folder)  # as a model folder: another account's export is never loaded
    manifest = _export_manifest(folder / EXPORT_MANIFEST)
    try:
        model = DecoderOnlyLM(DecoderConfig(**manifest["model"]["config"]))
    except (TypeError, ValueError) as exc:  # an edited model.config
        raise TrainingConfigError(f"{folder / EXPORT_MANIFEST}: its model.config does not describe the decoder "
                                  f"({exc}). Fix: export the run again.") from None
    weights = folder / "model.safetensors"
    if not weights.is_file() or weights.is_symlink():
        raise TrainingConfigError(f"{weights} is missing or not a regular file; the export is incomplete. "
                                  "Fix: export the run again (codex-ml export run_dir=... out=...).")
    try:
        load_model(model, str(weights))
    except Exception as exc:  # safetensors' own errors: a damaged file, or weights of another shape
        raise TrainingConfigError(f"{weights} could not be loaded ({str(exc).splitlines()[0]}): the file is "
                                  "damaged or from another model. Fix: export the run again.") from exc
    token_part = manifest["tokenizer"]
    if token_part.get("name") == "hf" and "files" in token_part:
        from codex_ml.tokenizers.hf import build_hf_tokenizer

        tokenizer = build_hf_tokenizer(folder / token_part["files"])
    else:
        from codex_ml.training import components

        tokenizer = components.build_tokenizer({"tokenizer": token_part})
    return model.eval(), tokenizer
