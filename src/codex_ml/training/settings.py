"""The training settings: one typed record, the single source of their defaults, checked once.

:class:`TrainSettings` holds every hyper-parameter with its type and its
default, which are the main job's values (``codex-ml train``).
``configs/training/default.yaml`` spells the same values out for the command
line and the offline trainer's JSON file (``data/offline/trainer_functional.json``)
holds only the keys its short fine-tuning profile changes;
``tests/test_train_settings.py`` fails when either drifts from this record.

Values come from three layers, later ones winning: the defaults below, the
trainer's JSON file (found through the catalogue), and explicit keyword
overrides (the Hydra ``training`` section, where ``null`` means "not set here").
A bad value is refused with the key, the value and what is allowed, before a
run folder is written (docs/guides/training.md).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_ml.training.errors import TrainingConfigError, did_you_mean

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainSettings:
    """Everything the training loop needs to know, validated on construction."""

    seed: int = 1337
    max_steps: int = 200
    # Sequences per optimizer step over ALL processes: the global batch, so one
    # config gives the same numbers on 1 process or N (each takes batch_size / N).
    batch_size: int = 16
    grad_accum_steps: int = 1  # micro-steps each process splits its share into
    block_size: int = 64
    learning_rate: float = 2e-3
    min_learning_rate: float = 2e-4
    warmup_steps: int = 20
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0 turns clipping off
    precision: str = "fp32"
    eval_interval: int = 25
    eval_batches: int = 8  # 0 evaluates the whole validation split
    log_interval: int = 10
    checkpoint_interval: int = 50  # 0: only the final checkpoint
    keep_checkpoints: int = 2
    device: str = "auto"
    output_dir: str = "runs"
    run_name: str | None = None
    resume: bool = False
    plot: bool = True  # <run>/loss.png at the end; a sweep of many short jobs may skip it
    # The tiny non-torch sequence model: n-gram order and add-k smoothing of its fit.
    order: int = 2
    smoothing: float = 0.1

    def __post_init__(self) -> None:
        for key in ("max_steps", "batch_size", "grad_accum_steps", "block_size", "order",
                    "eval_interval", "log_interval"):
            _require(self, key, getattr(self, key) >= 1)
        for key in ("warmup_steps", "eval_batches", "checkpoint_interval", "keep_checkpoints"):
            _require(self, key, getattr(self, key) >= 0)
        _require(self, "learning_rate", self.learning_rate > 0)
        _require(self, "min_learning_rate", 0 <= self.min_learning_rate <= self.learning_rate)
        _require(self, "weight_decay", self.weight_decay >= 0)
        _require(self, "grad_clip", self.grad_clip >= 0)
        _require(self, "beta1", 0 <= self.beta1 < 1)
        _require(self, "beta2", 0 <= self.beta2 < 1)
        _require(self, "smoothing", self.smoothing >= 0)
        _require(self, "precision", self.precision in PRECISIONS)

    @property
    def tokens_per_step(self) -> int:
        """Tokens in one optimizer step, whatever the number of processes."""
        return self.batch_size * self.block_size

    def micro_batch(self, world_size: int) -> int:
        """Sequences per forward pass on one process."""
        share = world_size * self.grad_accum_steps
        if self.batch_size % share:
            raise TrainingConfigError(
                f"training.batch_size={self.batch_size} (the global batch) must be divisible by "
                f"processes x training.grad_accum_steps = {world_size} x {self.grad_accum_steps}."
                f" Pick a batch_size that is a multiple of {share}.")
        return self.batch_size // share

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainerChoice:
    """``training.name``, ``training.path`` and ``training.kwargs``: which trainer, its settings
    file (``null``: its own default) and the arguments of a trainer class."""

    name: str = "offline:functional"
    path: str | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)


# The keys of the ``training`` section that choose the trainer rather than tune it.
CHOICE_KEYS = tuple(f.name for f in dataclasses.fields(TrainerChoice))


def split_training(part: Mapping[str, Any]) -> tuple[TrainerChoice, dict[str, Any]]:
    """The ``training`` section (canonical names) as the trainer choice and the setting values."""
    name, path, kwargs = part.get("name") or "offline:functional", part.get("path"), part.get("kwargs")
    if not isinstance(name, str):
        raise TrainingConfigError(f"training.name={name!r} is not allowed: training.name must be "
                                  "a registered trainer's name (`codex-ml list trainers`).", key="name")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TrainingConfigError(f"training.kwargs={kwargs!r} is not allowed: training.kwargs "
                                  "must be a mapping of argument names to values.", key="kwargs")
    choice = TrainerChoice(name, None if path is None else str(path), dict(kwargs or {}))
    return choice, {k: v for k, v in part.items() if k not in CHOICE_KEYS}


FIELDS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(TrainSettings)}
# Keys the trainer's JSON file may hold besides the settings (documentation only).
_DESCRIPTIVE = ("name", "description")


# What each setting allows, as the error for a bad value says it.
RULES: dict[str, str] = {
    "seed": "an integer", "max_steps": "an integer >= 1", "batch_size": "an integer >= 1",
    "grad_accum_steps": "an integer >= 1", "block_size": "an integer >= 1",
    "learning_rate": "a number > 0",
    "min_learning_rate": "a number between 0 and training.learning_rate",
    "warmup_steps": "an integer >= 0", "weight_decay": "a number >= 0",
    "beta1": "a number in [0, 1)", "beta2": "a number in [0, 1)",
    "grad_clip": "a number >= 0 (0 turns clipping off)",
    "precision": f"one of {', '.join(PRECISIONS)}", "eval_interval": "an integer >= 1",
    "eval_batches": "an integer >= 0 (0: the whole held-out split)",
    "log_interval": "an integer >= 1", "checkpoint_interval": "an integer >= 0 (0: only the final one)",
    "keep_checkpoints": "an integer >= 0", "device": "a device name: auto, cpu, cuda or cuda:N",
    "output_dir": "a folder path", "run_name": "a folder name, or null for a timestamp",
    "resume": "true or false", "plot": "true or false", "order": "an integer >= 1", "smoothing": "a number >= 0",
}


def bad_value(key: str, value: Any, source: str = "") -> TrainingConfigError:
    """The one-paragraph error for a setting's bad value: key, value, what is allowed, the fix."""
    where = f"{source}: " if source else ""
    return TrainingConfigError(
        f"{where}training.{key}={value!r} is not allowed: training.{key} must be {RULES[key]}. "
        f"Fix the value in the training config or pass training.{key}=... on the command line.",
        key=key)


def _require(settings: TrainSettings, key: str, ok: bool) -> None:
    if not ok:
        raise bad_value(key, getattr(settings, key))


def _coerce(key: str, value: Any, source: str) -> Any:
    """Check one value's type against its field; ints are accepted for floats."""
    kind = FIELDS[key].type
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "str | None": value is None or isinstance(value, str),
    }.get(str(kind), True)
    if not ok:
        raise bad_value(key, value, source)
    return float(value) if kind == "float" else value


def check_keys(data: Mapping[str, Any], source: str, extra: tuple[str, ...] = ()) -> None:
    """Reject keys that are not settings, suggesting the closest one."""
    for key in data:
        if key not in FIELDS and key not in extra:
            raise TrainingConfigError(
                f"{source}: unknown training setting {key!r}.{did_you_mean(key, FIELDS)} "
                f"Known settings: {', '.join(FIELDS)}.")


def read_settings_file(path: Path) -> dict[str, Any]:
    """The settings a trainer JSON file holds (its descriptive keys dropped)."""
    from codex_ml.catalogue.jsonfile import load_json_object

    data = load_json_object(path, "trainer configuration")
    check_keys(data, f"trainer configuration {path}", extra=_DESCRIPTIVE)
    return {k: v for k, v in data.items() if k not in _DESCRIPTIVE}


def merge_settings(*layers: tuple[str, Mapping[str, Any]]) -> TrainSettings:
    """Build settings from ``(source, values)`` layers; ``None`` values do not override."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source, values in layers:
        check_keys(values, source)
        for key, value in values.items():
            if value is not None:
                merged[key], origin[key] = _coerce(key, value, source), source
    try:
        return TrainSettings(**merged)
    except TrainingConfigError as exc:
        key = exc.key or ""
        if key not in merged:
            raise
        raise bad_value(key, merged[key], origin[key]) from None
