"""``offline:length``: a reward for hitting a target length, configured by ``length_reward.json``.

::

    {"unit": "words", "target_length": 12, "tolerance": 2,
     "penalty_per_unit": 0.1, "max_reward": 1.0, "min_reward": -1.0}

``distance = max(0, |length - target_length| - tolerance)`` and
``score = max(min_reward, max_reward - penalty_per_unit * distance)``.
``unit`` is ``"words"`` (whitespace-separated) or ``"characters"``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from codex_ml.catalogue import paths
from codex_ml.catalogue.jsonfile import FixtureError, field, load_json_object, reject_unknown

_WHAT = "length reward configuration"
_UNITS = ("words", "characters")
_KEYS = (
    "description",
    "unit",
    "target_length",
    "tolerance",
    "penalty_per_unit",
    "max_reward",
    "min_reward",
)


def _finite(value: float) -> bool:
    return math.isfinite(value)


class LengthRewardModel:
    """``score(prompt, completion)``: ``max_reward`` near ``target_length``, less the further off."""

    def __init__(
        self,
        *,
        target_length: int,
        unit: str = "words",
        tolerance: int = 0,
        penalty_per_unit: float = 0.1,
        max_reward: float = 1.0,
        min_reward: float = -1.0,
    ) -> None:
        if unit not in _UNITS:
            raise ValueError(f"unit must be one of {_UNITS}, got {unit!r}")
        if target_length < 0 or tolerance < 0 or penalty_per_unit < 0:
            raise ValueError("target_length, tolerance and penalty_per_unit must be >= 0")
        if not (_finite(max_reward) and _finite(min_reward)) or min_reward > max_reward:
            raise ValueError(
                f"need finite min_reward <= max_reward, got {min_reward} > {max_reward}"
            )
        self.unit, self.target_length, self.tolerance = unit, target_length, tolerance
        self.penalty_per_unit, self.max_reward, self.min_reward = (
            penalty_per_unit,
            max_reward,
            min_reward,
        )

    def length(self, text: str) -> int:
        return len(text.split()) if self.unit == "words" else len(text)

    def score(self, prompt: str, completion: str) -> float:
        """Reward of ``completion``'s length (``prompt`` is unused)."""
        if not isinstance(completion, str):
            raise TypeError(f"completion must be a string, got {type(completion).__name__}")
        distance = max(0, abs(self.length(completion) - self.target_length) - self.tolerance)
        return float(max(self.min_reward, self.max_reward - self.penalty_per_unit * distance))

    __call__ = score

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> LengthRewardModel:
        file = Path(path)
        data = load_json_object(file, _WHAT)
        reject_unknown(data, _KEYS, file, _WHAT)
        number = (int, float)
        options: dict[str, Any] = {
            "target_length": field(
                data, "target_length", int, file, _WHAT, check=lambda v: v >= 0, rule=">= 0"
            ),
            "unit": field(
                data,
                "unit",
                str,
                file,
                _WHAT,
                default="words",
                check=lambda v: v in _UNITS,
                rule=f"one of {_UNITS}",
            ),
            "tolerance": field(
                data, "tolerance", int, file, _WHAT, default=0, check=lambda v: v >= 0, rule=">= 0"
            ),
            "penalty_per_unit": field(
                data,
                "penalty_per_unit",
                number,
                file,
                _WHAT,
                default=0.1,
                check=lambda v: v >= 0,
                rule=">= 0",
            ),
            "max_reward": field(data, "max_reward", number, file, _WHAT, default=1.0),
            "min_reward": field(data, "min_reward", number, file, _WHAT, default=-1.0),
        }
        try:
            return cls(**options)
        except ValueError as exc:
            raise FixtureError(f"{_WHAT} {file}: {exc}") from exc

    def __repr__(self) -> str:
        return f"LengthRewardModel(unit={self.unit!r}, target_length={self.target_length})"


def build_length_reward(path: str | os.PathLike[str] | None = None) -> LengthRewardModel:
    """Catalogue factory of ``offline:length`` (``data/offline/length_reward.json``)."""
    return LengthRewardModel.from_file(paths.resolve("length_reward", path))
