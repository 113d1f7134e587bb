"""The functional trainer's hyper-parameters: one typed record, checked once.

Values come from three layers, later ones winning: the built-in defaults
below, the trainer's JSON file (``data/offline/trainer_functional.json``,
found through the catalogue), and explicit keyword overrides (the Hydra
``training`` section, where ``null`` means "not set here").
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_ml.training.errors import TrainingConfigError, did_you_mean

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainSettings:
    """Everything the training loop needs to know, validated on construction."""

    seed: int = 1337
    max_steps: int = 300
    # Sequences per optimizer step over ALL processes: the global batch, so one
    # config gives the same numbers on 1 process or N (each takes batch_size / N).
    batch_size: int = 16
    grad_accum_steps: int = 1  # micro-steps each process splits its share into
    block_size: int = 64
    learning_rate: float = 3e-3
    min_learning_rate: float = 3e-4
    warmup_steps: int = 20
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0 turns clipping off
    precision: str = "fp32"
    eval_interval: int = 50
    eval_batches: int = 8  # 0 evaluates the whole validation split
    log_interval: int = 10
    checkpoint_interval: int = 100  # 0: only the final checkpoint
    keep_checkpoints: int = 2
    device: str = "auto"
    output_dir: str = "runs"
    run_name: str | None = None
    resume: bool = False
    # The tiny non-torch sequence model: n-gram order and add-k smoothing of its fit.
    order: int = 2
    smoothing: float = 0.1

    def __post_init__(self) -> None:
        for key in ("max_steps", "batch_size", "grad_accum_steps", "block_size", "order"):
            _require(key, getattr(self, key) >= 1, "an integer >= 1")
        for key in ("warmup_steps", "eval_batches", "checkpoint_interval", "keep_checkpoints"):
            _require(key, getattr(self, key) >= 0, "an integer >= 0")
        _require("eval_interval", self.eval_interval >= 1, "an integer >= 1")
        _require("log_interval", self.log_interval >= 1, "an integer >= 1")
        _require("learning_rate", self.learning_rate > 0, "a number > 0")
        _require("min_learning_rate", 0 <= self.min_learning_rate <= self.learning_rate,
                 "between 0 and learning_rate")
        _require("grad_clip", self.grad_clip >= 0, "a number >= 0 (0 turns clipping off)")
        _require("beta1", 0 <= self.beta1 < 1, "in [0, 1)")
        _require("beta2", 0 <= self.beta2 < 1, "in [0, 1)")
        _require("smoothing", self.smoothing >= 0, "a number >= 0")
        _require("precision", self.precision in PRECISIONS, f"one of {', '.join(PRECISIONS)}")

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


FIELDS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(TrainSettings)}
# Keys the trainer's JSON file may hold besides the settings (documentation only).
_DESCRIPTIVE = ("name", "description")


def _require(key: str, ok: bool, rule: str) -> None:
    if not ok:
        raise TrainingConfigError(f"training.{key} must be {rule}. Fix the value in the training "
                                  f"config or pass training.{key}=... on the command line.", key=key)


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
        raise TrainingConfigError(
            f"{source}: {key!r} must be {kind}, found {value!r}. Fix the value.")
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
        culprit = origin.get(exc.key or "")
        if culprit is None:
            raise
        raise TrainingConfigError(f"{culprit}: {exc}", key=exc.key) from None
