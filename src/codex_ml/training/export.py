"""``codex-ml export run_dir=R out=DIR``: a trained run as a folder other tools load.

* A run on a Hugging Face model (offline GPT-2, TinyLlama, any ``hf`` folder)
  becomes a ``save_pretrained`` folder: ``model.safetensors``, ``config.json``
  and the tokenizer files, which ``AutoModelForCausalLM.from_pretrained`` and
  ``AutoTokenizer.from_pretrained`` load. LoRA adapters are merged into the
  weights (``lora=merge``, the default) or saved as a peft adapter folder
  (``lora=adapter``: ``adapter_config.json`` + ``adapter_model.safetensors``,
  loaded with ``peft.AutoPeftModelForCausalLM``).
* A run on the in-package decoder (``decoder_only``, ``minilm``) becomes a
  self-describing folder: ``model.safetensors`` plus ``codex_ml_model.json``
  (architecture and tokenizer), which :func:`codex_ml.load_run` reads.

Anything else is refused with the reason. The folder is written under a
temporary name and renamed into place, so a failed export leaves nothing.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from codex_ml.registry._errors import UnsafeFileError
from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.runs import (  # load_exported: re-exported, it lived here
    EXPORT_MANIFEST,
    FORMAT,
    load_exported,
    load_run,
)

__all__ = ["EXPORT_MANIFEST", "FORMAT", "export_run", "load_exported", "load_run"]
LORA_CHOICES = ("merge", "adapter")


def _is_peft(model: Any) -> bool:
    return hasattr(model, "merge_and_unload") and hasattr(model, "peft_config")


def _check_out(out: Path) -> None:
    """A new (or empty) folder of the user's own, in a folder no other account can change."""
    from codex_ml.utils.outputs import check_own_folder

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TrainingConfigError(f"out={out} already exists and is not an empty folder; choose a "
                                  "new folder (export never overwrites).")
    check_own_folder(out, "out=")  # it, or the folder it will be made in: an export another account could swap


def _cannot_write(target: Path, exc: OSError) -> TrainingConfigError:
    return TrainingConfigError(f"cannot write the export to {target}: {exc.strerror} (making a folder in "
                               f"{target.parent}). Fix: pass out= a new folder in a place you can write.")


def _save_tokenizer(tokenizer: Any, folder: Path, run_dir: Path) -> None:
    save = getattr(tokenizer, "save_pretrained", None)
    if not callable(save):
        raise TrainingConfigError(
            f"cannot export {run_dir}: its tokenizer {type(tokenizer).__name__} has no "
            "save_pretrained(), so AutoTokenizer could not load the folder. Train with a "
            "Hugging Face tokenizer (tokenizer=hf or an offline preset) to export this model.")
    save(str(folder))


def _export_hf(model: Any, tokenizer: Any, folder: Path, lora: str, run_dir: Path) -> str:
    if _is_peft(model) and lora == "merge":
        model = model.merge_and_unload()
    model.save_pretrained(str(folder), safe_serialization=True)
    _save_tokenizer(tokenizer, folder, run_dir)
    return "peft adapter" if _is_peft(model) else "transformers"


def _export_decoder(model: Any, tokenizer: Any, folder: Path, lora: str, cfg: dict[str, Any],
                    source: dict[str, str]) -> str:
    from safetensors.torch import save_model

    if _is_peft(model):
        if lora == "adapter":
            raise TrainingConfigError("lora=adapter needs a transformers model; the in-package "
                                      "decoder is exported with its LoRA merged (lora=merge).")
        model = model.merge_and_unload()
    save_model(model, str(folder / "model.safetensors"))
    token_part: dict[str, Any] = dict(cfg.get("tokenizer") or {})
    if callable(getattr(tokenizer, "save_pretrained", None)):
        tokenizer.save_pretrained(str(folder))
        token_part = {"name": "hf", "files": "."}
    manifest = {"format": FORMAT, "version": 1,
                "model": {"name": cfg["model"]["name"], "config": model.config.to_dict()},
                "tokenizer": token_part, "source": source}
    (folder / EXPORT_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return FORMAT


def _exporter(model: Any) -> str:
    from codex_ml.models.decoder import DecoderOnlyLM
    from codex_ml.utils.modeling import is_hf_model

    base = model.get_base_model() if _is_peft(model) else model
    if is_hf_model(model):
        return "hf"
    if isinstance(base, DecoderOnlyLM):
        return "decoder"
    raise TrainingConfigError(
        f"cannot export a {type(base).__name__}: export writes transformers models and the "
        "in-package decoder (decoder_only, minilm). Save a plugin model with its own method.")


def export_run(run_dir: str | os.PathLike[str], out: str | os.PathLike[str],
               checkpoint: str = "latest", lora: str = "merge") -> dict[str, Any]:
    """Write the run's chosen checkpoint to ``out``; return what was written."""
    from codex_ml.training.runs import trained_config

    run, target = Path(run_dir), Path(out)
    if lora not in LORA_CHOICES:
        raise TrainingConfigError(f"lora={lora!r}: choose merge or adapter.")
    _check_out(target)
    model, tokenizer = load_run(run, checkpoint)
    kind = _exporter(model)
    from codex_ml.utils.outputs import require_own_folder

    try:
        require_own_folder(target.parent, "out=")
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except UnsafeFileError:
        raise
    except OSError as exc:  # the folder it goes in cannot be made or written
        raise _cannot_write(target, exc) from None
    try:
        if kind == "hf":
            fmt = _export_hf(model, tokenizer, staging, lora, run)
        else:
            source = {"run_dir": str(run), "checkpoint": checkpoint}
            fmt = _export_decoder(model, tokenizer, staging, lora, trained_config(run), source)
        staging.chmod(0o755)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"out": str(target), "format": fmt, "files": sorted(p.name for p in target.iterdir())}
