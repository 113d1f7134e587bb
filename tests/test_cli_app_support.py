"""Helpers of the CLI tests (no tests here): real subprocesses, no mocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path
from typing import Any

import _prewarm

SCRIPT = Path(sysconfig.get_path("scripts")) / "codex-ml"
KINDS = ("models", "datasets", "metrics", "trainers", "reward_models", "tokenizers", "rl_agents")
HEAVY = ("torch", "transformers", "hydra", "omegaconf", "rich", "pydantic", "typer", "numpy")


def clean_env(**extra: str) -> dict[str, str]:
    """The test environment (network block kept) without plugin settings of the caller."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CODEX_ML_PLUGIN", "CODEX_ML_PLUGINS_", "CODEX_TOY"))}
    env.update(extra)
    return env


def with_path(env: dict[str, str], *paths: Path | str) -> dict[str, str]:
    """``env`` with ``paths`` prepended to PYTHONPATH, keeping its existing entries."""
    parts = [str(p) for p in paths] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**env, "PYTHONPATH": os.pathsep.join(parts)}


def run_argv(argv: list[str], env: dict[str, str] | None, cwd: Path | str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, check=False, env=env if env is not None else clean_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


# Commands that import torch: run forked from the prewarmed server (tests/_prewarm.py).
TORCH_COMMANDS = ("train", "evaluate", "generate", "export", "plot")


def codex_ml(*args: str, cwd: Path | str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed ``codex-ml`` console script, run by this interpreter (torch commands prewarmed)."""
    if args[:1] and args[0] in TORCH_COMMANDS:
        return run_argv(_prewarm.argv(*args), env, cwd)
    argv = [sys.executable, str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "codex_ml.cli.app"]
    return run_argv(argv + list(args), env, cwd)


def plugins_cli(*args: str, cwd: Path | str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_argv([sys.executable, "-m", "codex_ml.cli.plugins_cli", *args], env, cwd)


def parsed(proc: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not JSON ({exc}):\n{proc.stdout}\n{proc.stderr}") from None


def broken_dist(root: Path, *, name: str = "broken-plugin", version: str = "0.3",
                entry_points: str = "[codex_ml.metrics]\nbroken_metric = broken_mod:build\n",
                error: str = 'raise RuntimeError("boom: the plugin needs libfoo")') -> Path:
    """A tiny installed distribution whose module raises on import; returns its sys.path folder."""
    meta = root / f"{name.replace('-', '_')}-{version}.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (meta / "entry_points.txt").write_text(entry_points)
    (root / "broken_mod.py").write_text(error + "\n")
    return root


def plugin_folder(root: Path, files: dict[str, str]) -> Path:
    """A plugin folder (mode 755/644, as the core's permission check wants)."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for rel, code in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o755)
        path.write_text(textwrap.dedent(code))
        path.chmod(0o644)
    return root
