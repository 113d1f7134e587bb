"""Helpers for the training and CLI tests (this module holds no tests).

Every run is a real process in a fresh working directory, with the catalogue's
environment variables cleared so the packaged fixtures are used unless a test
points somewhere else. By default the process is forked from a prewarmed
server (``_prewarm``: torch, Hydra and transformers already imported, codex_ml
imported afresh); ``real=True`` starts ``python -m codex_ml.cli`` from scratch,
for the tests about the interpreter itself.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import _prewarm
import pytest

from codex_ml.catalogue import paths

# Small, fast overrides for runs that only need to prove a path works (small batches: a
# quarter of the time of the main job's sizes, the same code paths).
QUICK = ["training.max_steps=4", "training.eval_interval=2", "training.log_interval=2",
         "training.checkpoint_interval=0", "evaluate.num_samples=1", "evaluate.max_new_tokens=4",
         "training.batch_size=4", "training.block_size=32",
         "training.plot=false"]  # loss.png is tests/test_plot.py's; drawing it costs a few tenths of a second


def clean_env(**extra: str) -> dict[str, str]:
    """The test environment without catalogue overrides (the network block stays)."""
    env = {k: v for k, v in os.environ.items() if k not in paths.ENV_VARS}
    env.pop("CODEX_ML_PLUGIN_PATH", None)
    env["PYTHONUNBUFFERED"] = "1"
    # One intra-op thread per process: on a busy CI box, OpenMP threads spinning against
    # other processes slow these tiny models down ten-fold; the numbers are the same.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def cli(args: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 240, real: bool = False) -> subprocess.CompletedProcess[str]:
    """``codex-ml ARGS`` in ``cwd`` (prewarmed, or ``python -m codex_ml.cli`` if ``real``); output as text."""
    argv = [sys.executable, "-m", "codex_ml.cli", *args] if real else _prewarm.argv(*args)
    return subprocess.run(argv, cwd=cwd, env=env or clean_env(), capture_output=True, text=True, check=False,
                          timeout=timeout)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def records(run_dir: Path, split: str | None = None) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


def weights(run_dir: Path, step: int) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(run_dir / "checkpoints" / f"step-{step:06d}" / "model.safetensors"))


@pytest.fixture(scope="session")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random GPT-2 checkpoint plus its BPE tokenizer, as artifacts/models/gpt2 holds."""
    from codex_ml.models.tiny_checkpoints import write_tiny_gpt2

    return write_tiny_gpt2(tmp_path_factory.mktemp("models") / "gpt2")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory: runs land in ./runs under it."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return cwd
