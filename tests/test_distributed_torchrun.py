"""``torchrun --nproc_per_node=2`` on CPU (gloo) matches one process with the same global batch."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures come from test_training_support by import)
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from test_training_support import clean_env, cli, ok, records, weights, workdir  # noqa: F401

# Global batch 16 in both runs: one process takes it as 2 micro-batches of 8, two
# processes take 8 each; gradients are averaged over the same 16 sequences.
COMMON = ["training.max_steps=12", "training.batch_size=16", "training.log_interval=1",
          "training.eval_interval=6", "training.checkpoint_interval=6", "training.device=cpu",
          "evaluate.num_samples=1", "evaluate.max_new_tokens=4"]


PORT_RACE = ("Address already in use", "EADDRINUSE", "DistNetworkError")


def torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "codex_ml.cli", "train", *args]
    for _ in range(3):  # torchrun picks a free port, then binds it: another job can win the race
        result = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True,
                                check=False, timeout=300)
        if not any(sign in result.stderr for sign in PORT_RACE):
            break
        shutil.rmtree(cwd / "runs", ignore_errors=True)
    return result


def test_two_processes_match_one_with_the_same_global_batch(workdir: Path) -> None:
    ddp = ok(torchrun([*COMMON, "training.grad_accum_steps=1", "training.run_name=ddp"], workdir))
    ok(cli(["train", *COMMON, "training.grad_accum_steps=2", "training.run_name=single"], workdir))
    ddp_run, single_run = workdir / "runs" / "ddp", workdir / "runs" / "single"

    summary = (ddp_run / "summary.json").read_text()
    assert '"world_size": 2' in summary and ddp.stdout.count("wrote runs/ddp") == 1  # rank 0 only
    assert sorted(p.name for p in (workdir / "runs").iterdir()) == ["ddp", "single"]

    for split in ("train", "val"):
        a, b = records(ddp_run, split), records(single_run, split)
        assert [r["step"] for r in a] == [r["step"] for r in b]  # each step logged once
        assert torch.allclose(torch.tensor([r["loss"] for r in a]),
                              torch.tensor([r["loss"] for r in b]), rtol=1e-4, atol=1e-5)
    w_ddp, w_single = weights(ddp_run, 12), weights(single_run, 12)
    assert all(torch.allclose(w_ddp[k], w_single[k], atol=1e-5) for k in w_single)
    assert records(ddp_run, "val")[-1]["loss"] < records(ddp_run, "val")[0]["loss"]


def test_a_global_batch_that_does_not_split_is_explained(workdir: Path) -> None:
    result = torchrun(["training.batch_size=5", "training.max_steps=1"], workdir)
    assert result.returncode != 0
    # Each worker explains itself in one line (torchrun then adds its own launcher report).
    assert result.stderr.count("must be divisible by processes x training.grad_accum_steps "
                               "= 2 x 1") == 2
