"""``train(cfg)``: a config in, a trained run directory out.

This is what ``codex-ml train`` calls after Hydra composed the config; it is a
function of the config alone (a plain mapping or an OmegaConf ``DictConfig``),
so notebooks and tests call it the same way. It builds every part by name
through the registries, then hands a PyTorch model to
:mod:`codex_ml.training.loop` and anything else to :mod:`codex_ml.training.tiny`.
torch is imported only on the first path.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import random
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codex_ml.training import components
from codex_ml.training.confignames import canonical_names
from codex_ml.training.data import TokenSplits, make_splits
from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.parts import Parts, Training
from codex_ml.training.runplan import drop_empty, give_up, plan_run
from codex_ml.training.scoring import check_kinds
from codex_ml.training.settings import TrainerChoice, TrainSettings, merge_settings, split_training


def plain_config(cfg: Any) -> dict[str, Any]:
    """A resolved, plain-dict copy of ``cfg`` (OmegaConf or any mapping)."""
    if type(cfg).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf
        from omegaconf.errors import MissingMandatoryValue

        try:
            data = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        except MissingMandatoryValue as exc:
            raise missing_value(str(exc.full_key)) from None
    else:
        import copy

        data = copy.deepcopy(dict(cfg))
    if not isinstance(data, dict):
        raise TrainingConfigError(f"a run config must be a mapping, found {type(cfg).__name__}.")
    return {str(k): v for k, v in data.items()}


# What to say when a mandatory (``???``) key is left unset.
_MISSING_HINTS = {
    "dataset_loader.path": "data=lines reads a text file, one record per line",
    "tokenizer.name_or_path": "tokenizer=hf loads a Hugging Face tokenizer from a local folder",
}


def missing_value(key: str) -> TrainingConfigError:
    why = _MISSING_HINTS.get(key, "the config marks it as required (???)")
    return TrainingConfigError(f"{key} is not set: {why}. Set it on the command line: "
                               f"{key}=<path or value>.", key=key)


def is_torch_model(model: Any) -> bool:
    torch = sys.modules.get("torch")  # not imported: cannot be a torch module
    return torch is not None and isinstance(model, torch.nn.Module)


def seed_everything(seed: int, with_torch: bool) -> None:
    """Seed Python and, unless the model is tagged ``no-torch``, torch (all devices)."""
    random.seed(seed)
    if with_torch and importlib.util.find_spec("torch") is not None:
        import torch

        torch.manual_seed(seed)


def _functional_style(target: Any) -> bool:
    """A trainer factory that takes ``config_path`` gets the settings as keyword overrides."""
    try:
        return "config_path" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def parse_training(cfg: Mapping[str, Any]) -> Training:
    """The ``training`` section, parsed once into typed settings (and the trainer, when it can be
    built before the model); every bad value is refused here, before anything is written.

    A functional-style trainer (``offline:functional`` or a plugin factory with
    a ``config_path`` parameter) owns the settings: its file, then the section.
    A class trainer (a ``BaseTrainer`` subclass) is built later, once the model
    exists, and the settings come from the ``training`` section alone.
    """
    from codex_ml.registry import trainer_registry

    choice, overrides = split_training(components.section(cfg, "training"))
    if _functional_style(trainer_registry[choice.name]):
        kwargs = {"config_path": choice.path, **overrides, **choice.kwargs}
        trainer = components.create(trainer_registry, choice.name, kwargs, "training")
        settings = getattr(trainer, "settings", None)
        if isinstance(settings, TrainSettings):
            return Training(choice, settings, trainer)
    return Training(choice, merge_settings(("training config", overrides)), None)


def build_class_trainer(cfg: Mapping[str, Any], choice: TrainerChoice, model: Any) -> Any:
    """Instantiate a plugin's trainer class, handing it the model if it takes one."""
    from codex_ml.registry import trainer_registry

    target, extra = trainer_registry[choice.name], dict(choice.kwargs)
    params: Mapping[str, Any]
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        params = {}
    if "model" in params and "model" not in extra:
        extra["model"] = model
    if "config" in params and "config" not in extra:  # BaseTrainer(config=...): its section
        extra["config"] = components.section(cfg, "training")
    trainer = components.create(trainer_registry, choice.name, extra, "training.kwargs")
    if getattr(trainer, "model", None) is None:
        trainer.model = model
    return trainer


def _val_fraction(cfg: Mapping[str, Any]) -> float:
    value = components.section(cfg, "dataset_loader").get("val_fraction", 0.1)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TrainingConfigError(f"dataset_loader.val_fraction must be a number, found {value!r}.")
    return float(value)


def _streamed(cfg: dict[str, Any], records: Any, tokenizer: Any, model: Any) -> TokenSplits | None:
    if not is_torch_model(model):
        return None
    from codex_ml.training.token_cache import streamed_splits

    return streamed_splits(cfg, records, tokenizer, _val_fraction(cfg))


def build_parts(cfg: dict[str, Any], training: Training | None = None, *, new_run: bool = True) -> Parts:
    """Settings (unless parsed already), seed, tokenizer, model, data, metrics and trainer.

    ``new_run=False``: the parts of a finished run, being evaluated (see ``check_vocabulary``).
    """
    training = training or parse_training(cfg)
    settings, trainer = training.settings, training.trainer
    seed_everything(settings.seed, with_torch=not components.torch_free_model(cfg))
    tokenizer = components.build_tokenizer(cfg)
    model, tokenizer = components.build_model(cfg, tokenizer, new_run=new_run)
    records = components.build_records(cfg)
    splits = (_streamed(cfg, records, tokenizer, model)  # data=lines: a memory-mapped token cache
              or make_splits(records, tokenizer, _val_fraction(cfg)))
    metrics = components.build_metrics(cfg)
    check_kinds(metrics)
    if trainer is None:
        trainer = build_class_trainer(cfg, training.choice, model)
    return Parts(cfg, settings, trainer, tokenizer, model, splits, metrics, training.choice)


def prepare_config(cfg: Any, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The composed config as a plain dict: canonical key names, the command line's kwargs claimed."""
    plain = canonical_names(plain_config(cfg), overrides)
    return components.claim_kwargs(plain, list(overrides))


def is_main_process() -> bool:
    """Rank 0 under torchrun, or a plain process."""
    return os.environ.get("RANK", "0") == "0"


def train(cfg: Any, run_dir: Path | None = None, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Train what ``cfg`` describes; return the run summary (also in summary.json).

    ``run_dir``: the folder to write (``codex-ml train`` passes Hydra's job
    folder); by default ``<training.output_dir>/<training.run_name or a
    timestamp>``. ``overrides``: the command line's (Hydra's) overrides. The
    training settings are parsed and checked first; then the folder is locked
    and a resume checked, all before anything is built or written.
    """
    try:
        cfg = prepare_config(cfg, overrides)
        training = parse_training(cfg)
    except BaseException:  # nothing written: Hydra's fresh run folder goes too
        if run_dir is not None:
            drop_empty(run_dir, (cfg.get("training") or {}).get("output_dir"))
        raise
    plan = plan_run(cfg, run_dir, training.settings) if is_main_process() else None
    if plan is not None and plan.resumed:  # the saved config, with the safe changes requested
        training = parse_training(plan.cfg)
    failed = True
    try:
        parts = build_parts(plan.cfg if plan else cfg, training)
        parts.plan = plan
        for note in plan.notes if plan else []:
            print(note, flush=True)
        summary = _train_parts(parts)
        failed = False
        return summary
    finally:
        if plan is not None:
            if failed:
                give_up(plan.lock, training.settings.output_dir)
            else:
                plan.lock.release()


def _train_parts(parts: Parts) -> dict[str, Any]:
    if is_torch_model(parts.model):
        from codex_ml.training.loop import train_parts

        return train_parts(parts)
    from codex_ml.training.tiny import train_tiny

    return train_tiny(parts)
