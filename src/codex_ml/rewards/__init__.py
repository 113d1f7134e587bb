"""Reward models of the offline catalogue: ``score(prompt, completion) -> float``. Pure Python."""

from __future__ import annotations

from codex_ml.rewards.heuristic import HeuristicRewardModel
from codex_ml.rewards.length import LengthRewardModel, build_length_reward

__all__ = ["HeuristicRewardModel", "LengthRewardModel", "build_length_reward"]
