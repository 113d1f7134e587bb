"""Checkpoints: atomic files, the ``latest`` pointer, pruning, and SIGKILL + resume."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures come from test_training_support by import)
import os
import signal
import subprocess
from pathlib import Path

import _prewarm
import pytest

torch = pytest.importorskip("torch")

from test_training_support import clean_env, cli, ok, records, weights, workdir  # noqa: F401

from codex_ml.models.decoder import build_decoder_only
from codex_ml.training import checkpoint
from codex_ml.training.atomic import atomic_path, atomic_write_text
from codex_ml.training.errors import CheckpointError

RUN = ["training.max_steps=60", "training.checkpoint_interval=10", "training.log_interval=5",
       "training.eval_interval=20", "evaluate.num_samples=1", "evaluate.max_new_tokens=4",
       # a small decoder: what is checked (resumed weights equal uninterrupted ones) does not need the main job's
       "model.kwargs.d_model=32", "model.kwargs.n_layers=1", "model.kwargs.n_heads=2", "training.block_size=32"]


def _save(root: Path, step: int, model: torch.nn.Module, keep: int = 2) -> Path:
    state = {"rng": checkpoint.capture_rng(), "optimizer": {}, "scheduler": {}}
    return checkpoint.save_torch(root, step, model, state, keep)


def test_atomic_write_leaves_no_temporary_file_and_keeps_the_old_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    atomic_write_text(target, "one")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_weights_round_trip_with_tied_embeddings(tmp_path: Path) -> None:
    model = build_decoder_only(vocab_size=50, d_model=16, n_layers=1, n_heads=2, max_seq_len=8)
    folder = _save(tmp_path, 3, model)
    other = build_decoder_only(vocab_size=50, d_model=16, n_layers=1, n_heads=2, max_seq_len=8,
                               seed=9)
    checkpoint.load_weights(folder, other)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 other.state_dict().values()))
    assert other.lm_head.weight is other.tok_emb.weight  # still tied after loading
    assert checkpoint.load_state(folder)["step"] == 3


def test_a_checkpoint_file_other_accounts_can_write_is_not_loaded(tmp_path: Path) -> None:
    model = build_decoder_only(vocab_size=50, d_model=16, n_layers=1, n_heads=2, max_seq_len=8)
    folder = _save(tmp_path, 3, model)
    (folder / checkpoint.WEIGHTS).chmod(0o666)  # a folder of ours, a file anyone may rewrite
    with pytest.raises(PermissionError, match=rf"^refusing to read {folder / checkpoint.WEIGHTS}: it is "
                                              r"writable by other users \(mode 666\)\."):
        checkpoint.load_weights(folder, model)


def test_latest_pointer_pruning_and_leftovers(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 2)
    for step in (10, 20, 30):
        _save(tmp_path, step, model, keep=2)
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-000020", "step-000030"]
    assert checkpoint.latest_checkpoint(tmp_path) == tmp_path / "step-000030"
    (tmp_path / "step-000040").mkdir()  # a killed run's half-written folder: kept, never
    assert checkpoint.latest_checkpoint(tmp_path) == tmp_path / "step-000030"  # deleted by a pointer
    assert (tmp_path / "step-000040").is_dir()


def test_a_pointer_to_a_torn_checkpoint_is_refused(tmp_path: Path) -> None:
    folder = _save(tmp_path, 5, torch.nn.Linear(2, 2))
    (folder / checkpoint.STATE).unlink()
    with pytest.raises(CheckpointError, match="lacks state.pt"):
        checkpoint.latest_checkpoint(tmp_path)


def test_weights_that_do_not_fit_are_explained(tmp_path: Path) -> None:
    folder = _save(tmp_path, 1, torch.nn.Linear(2, 2))
    with pytest.raises(CheckpointError, match="do not fit the model"):
        checkpoint.load_weights(folder, torch.nn.Linear(3, 3))


def _kill_after_first_checkpoint(cwd: Path) -> int:
    """Start a run, SIGKILL it once it reports its first checkpoint; return the exit code.

    The run is forked from the prewarmed server (tests/_prewarm.py), which writes the pid of
    the process running ``codex-ml train`` to a file; its client ends by the same signal.
    (With ``TESTS_PREWARM=0`` the run is the started process itself.)
    """
    pidfile = cwd / "train.pid"
    proc = subprocess.Popen(_prewarm.argv("train", *RUN, "training.run_name=killed"), cwd=cwd,
                            env=clean_env(**{_prewarm.PIDFILE: str(pidfile)}),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("checkpoint step 10"):
            os.kill(_prewarm.command_pid(pidfile) or proc.pid, signal.SIGKILL)
            break
    proc.stdout.close()
    return proc.wait(timeout=120)


def test_sigkill_then_resume_ends_with_the_weights_of_an_uninterrupted_run(workdir: Path) -> None:
    assert _kill_after_first_checkpoint(workdir) == -signal.SIGKILL
    killed = workdir / "runs" / "killed"
    assert not (killed / "summary.json").exists()  # it really died mid-run
    resumed = ok(cli(["train", *RUN, "training.run_name=killed", "training.resume=true"], workdir))
    assert "resumed at step" in resumed.stdout
    ok(cli(["train", *RUN, "training.run_name=straight"], workdir))
    straight = workdir / "runs" / "straight"
    a, b = weights(straight, 60), weights(killed, 60)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    drop = ("tokens_per_sec",)
    assert ([{k: v for k, v in r.items() if k not in drop} for r in records(killed)]
            == [{k: v for k, v in r.items() if k not in drop} for r in records(straight)])


def test_resume_without_a_run_name_continues_the_newest_run(workdir: Path) -> None:
    ok(cli(["train", *RUN[1:], "training.max_steps=10", "training.run_name=first"], workdir))
    out = ok(cli(["train", *RUN[1:], "training.max_steps=12", "training.resume=true"], workdir))
    assert "runs/first (resumed at step 10)" in out.stdout
    assert records(workdir / "runs" / "first", "train")[-1]["step"] == 12
