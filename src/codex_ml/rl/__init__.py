"""RL agents of the offline catalogue: ``act(observation) -> action``. Pure Python."""

from __future__ import annotations

from codex_ml.rl.scripted import ScriptedAgent, build_scripted_agent

__all__ = ["ScriptedAgent", "build_scripted_agent"]
