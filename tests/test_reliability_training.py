"""Nothing lost in training (issue 6, part 6).

* Atomic writes: a reader never sees a half-written file, a failing or killed
  writer leaves the previous version intact.
* 20 real training runs (``codex_ml.training.jobs.train``, a tiny
  decoder_only model checkpointing every step) are killed with SIGKILL at
  random moments (half of them at a random time of a whole run, half within
  the step after a random checkpoint, so a slow machine still kills mid-run); each is then resumed and must restart from its latest
  complete checkpoint, finish, and log every step exactly once. Every
  checkpoint file visible after a kill must load.
* A full disk while writing a checkpoint (``RLIMIT_FSIZE``: writes past the
  limit fail with EFBIG, as ENOSPC would, without root or a tmpfs) must leave
  the previous checkpoint intact and resumable, and be reported without a
  traceback.

To stay fast on two cores, one "fork server" process imports torch and
codex_ml once and runs every training run in a forked child (a child only
pays for its training steps: ~0.3 s); that process is itself started from
the CLI tests' prewarmed server (tests/_prewarm.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import _prewarm
import pytest
from _support import env_with

from codex_ml.training.atomic import atomic_save, atomic_write_text

pytestmark = pytest.mark.slow  # kill trials, fuzzers, stress: `-m "not slow"` skips them locally

POSIX = pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(signal, "SIGKILL"),
                           reason="needs fork and SIGKILL")
TRIALS = 20
MAX_STEPS = 20

FORK_SERVER = r'''
"""Import torch and codex_ml once; run every training run in a forked child."""
import gc, json, os, random, resource, signal, sys, time, traceback
from pathlib import Path

ROOT, TRIALS, SEED, MAX_STEPS = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
OVERRIDES = [f"training.max_steps={MAX_STEPS}", "training.checkpoint_interval=1",
             "training.eval_interval=1000", "training.log_interval=1", "training.batch_size=2",
             "training.block_size=16", "training.eval_batches=1", "training.keep_checkpoints=2",
             "training.device=cpu", "model.kwargs.d_model=16", "model.kwargs.n_layers=1",
             "model.kwargs.n_heads=1", "evaluate.num_samples=1", "evaluate.max_new_tokens=1",
             "training.plot=false"]  # loss.png is tests/test_plot.py's; here it only costs time

from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

with initialize_config_module("codex_ml.configs", version_base=None):
    BASE = OmegaConf.to_container(compose("config", overrides=OVERRIDES), resolve=True)

import torch  # imported before any fork; no tensor operation runs in this process
import torch._dynamo  # noqa: F401  AdamW imports it lazily: 2 s in every child otherwise
import safetensors.torch  # noqa: F401
from codex_ml.training import checkpoint, jobs, rundir

gc.collect()
gc.freeze()  # what the children share stays shared: a collection in a child would copy all of it


def config(run, resume, **training):
    cfg = json.loads(json.dumps(BASE))
    cfg["training"].update(output_dir=str(run.parent), run_name=run.name, resume=resume, **training)
    return cfg


def in_child(fn, *args, **kwargs):
    """Fork; the child runs fn(*args, **kwargs), writes its JSON result. Returns (pid, result file)."""
    result = ROOT / f"result-{time.monotonic_ns()}.json"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            torch.set_num_threads(1)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            out = fn(*args, **kwargs)
            result.write_text(json.dumps(out))
            code = 0
        except BaseException:
            result.write_text(json.dumps({"crash": traceback.format_exc()}))
        os._exit(code)
    return pid, result


def wait(pid, result):
    _, status = os.waitpid(pid, 0)
    data = json.loads(result.read_text()) if result.exists() else {}
    data["exit"] = os.waitstatus_to_exitcode(status)
    return data


def train(run, resume, **training):
    summary = jobs.train(config(run, resume, **training))
    return {"resumed_from": summary.get("resumed_from")}


def inspect(run):
    """What a run directory holds: the checkpoint `latest` names, and whether each visible file loads."""
    from safetensors.torch import load_file

    ckpts = run / "checkpoints"
    state = {"latest": None, "broken": [], "temp_files": [], "folders": []}
    if not ckpts.is_dir():
        return state
    state["temp_files"] = sorted(str(p.relative_to(ckpts)) for p in ckpts.rglob(".*") if p.is_file())
    for folder in sorted(p for p in ckpts.glob("step-*") if p.is_dir()):
        state["folders"].append(folder.name)
        for name, load in ((checkpoint.WEIGHTS, lambda p: load_file(str(p))),
                           (checkpoint.STATE, lambda p: torch.load(p, weights_only=True))):
            if (folder / name).exists():
                try:
                    load(folder / name)
                except Exception as exc:
                    state["broken"].append(f"{folder.name}/{name}: {type(exc).__name__}: {exc}")
    try:
        latest = checkpoint.latest_checkpoint(ckpts)
        if latest is not None:
            state["latest"] = checkpoint.step_of(latest)
            state["latest_state_step"] = int(checkpoint.load_state(latest)["step"])
    except Exception as exc:
        state["broken"].append(f"latest: {type(exc).__name__}: {exc}")
    return state


def resume_and_check(run, max_steps, **training):
    before = inspect(run)
    after = train(run, True, max_steps=max_steps, **training)
    steps = [r["step"] for r in rundir.read_metrics(run) if r.get("split") == "train"]
    return {"before": before, "resumed_from": after["resumed_from"], "train_steps": steps,
            "after": inspect(run)}


def reached(run, step, result, limit=120.0):
    """Wait until the run's `latest` checkpoint is at least `step` (or the run has ended)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not result.exists():
        try:
            latest = checkpoint.latest_checkpoint(run / "checkpoints")
        except Exception:  # a pointer being replaced: look again
            latest = None
        if latest is not None and checkpoint.step_of(latest) >= step:
            return
        time.sleep(0.002)


def kill_trials():
    rng = random.Random(SEED)
    started = time.monotonic()
    calibration = wait(*in_child(train, ROOT / "calibration", False))
    span = time.monotonic() - started  # a whole run, start to finish, in a child
    trials = []
    for n in range(TRIALS):
        run = ROOT / f"trial-{n:02d}"
        pid, result = in_child(train, run, False)
        if n % 2:  # once a random checkpoint is on disk, within the next step: mid-run even when slow
            reached(run, rng.randint(1, MAX_STEPS - 2), result)
            delay = rng.uniform(0.0, span / MAX_STEPS)
        else:  # any moment of a whole run's time, the first checkpoint's writing included
            delay = rng.uniform(0.0, span * 0.9)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        killed = wait(pid, result)
        check = wait(*in_child(resume_and_check, run, MAX_STEPS))
        trials.append({"delay": round(delay, 3), "killed_exit": killed["exit"], **check})
    return {"calibration": calibration, "span": span, "trials": trials,
            "seconds": time.monotonic() - started}


def full_disk(limit):
    """Checkpoint at 2 and 4, then resume with writes past `limit` bytes failing (EFBIG)."""
    run = ROOT / f"full-disk-{limit}"
    first = wait(*in_child(lambda: train(run, False, max_steps=4, checkpoint_interval=2)))

    def limited():
        import contextlib, io
        from codex_ml.cli.__main__ import main

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = main(["train", *OVERRIDES, f"training.output_dir={run.parent}",
                           f"training.run_name={run.name}", "training.resume=true",
                           "training.max_steps=8", "training.checkpoint_interval=2"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        return {"status": status, "stderr": err.getvalue(), "after": inspect(run)}

    full = wait(*in_child(limited))
    again = wait(*in_child(resume_and_check, run, 8, checkpoint_interval=2))
    return {"first": first, "full": full, "again": again, "run": str(run)}


def torn_log():
    """A metrics.jsonl whose last record was cut short (a full disk while appending)."""
    run = ROOT / "torn"
    first = wait(*in_child(lambda: train(run, False, max_steps=4, checkpoint_interval=2)))
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"step": 5, "split": "tra')
    again = wait(*in_child(resume_and_check, run, 6, checkpoint_interval=2))
    return {"first": first, "again": again}


print(json.dumps({"kill": kill_trials(), "disk_weights": full_disk(16 * 1024),
                  "disk_state": full_disk(48 * 1024), "torn": torn_log()}))
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every training scenario, run once by the fork server."""
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    pytest.importorskip("torch")
    pytest.importorskip("hydra")
    root = tmp_path_factory.mktemp("training")
    started = time.monotonic()
    script = root / "fork_server.py"
    script.write_text(FORK_SERVER)
    # The fork server is itself forked from the CLI tests' prewarmed server (torch, Hydra and
    # matplotlib already imported; codex_ml imported afresh), or a new interpreter without it.
    proc = subprocess.run(_prewarm.script_argv(str(script), str(root), str(TRIALS), "6", str(MAX_STEPS)),
                          env=env_with(), cwd=root, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_seconds"] = time.monotonic() - started
    return out


# ------------------------------------------------------------- atomic writes
def test_readers_never_see_a_half_written_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write_text(target, "a" * 200_000)
    seen: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            text = target.read_text()
            seen.add("torn" if len(set(text)) != 1 or len(text) != 200_000 else text[0])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(60):
            atomic_write_text(target, chr(ord("b") + i % 20) * 200_000)
    finally:
        stop.set()
        thread.join()
    assert "torn" not in seen and len(seen) > 1
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left


def test_a_failing_writer_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "model.safetensors"
    atomic_write_text(target, "version 1")

    def write_half_then_fail(tmp: Path) -> None:
        tmp.write_text("version 2, half writ")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left on device"):
        atomic_save(write_half_then_fail, target)
    assert target.read_text() == "version 1"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


@POSIX
def test_a_writer_killed_mid_write_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    atomic_write_text(target, "old")
    started = tmp_path / "started"
    code = textwrap.dedent(f"""
        import pathlib, time
        from codex_ml.training.atomic import atomic_save

        def slow(tmp):
            with open(tmp, "w") as handle:
                pathlib.Path({str(started)!r}).write_text("x")
                for _ in range(10_000):
                    handle.write("n" * 100_000)
                    handle.flush()
                    time.sleep(0.001)

        atomic_save(slow, pathlib.Path({str(target)!r}))
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env_with())
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert target.read_text() == "old"  # the half-written data only ever lived under a temporary name


# ---------------------------------------------------------- killed training
@POSIX
def test_killed_runs_always_resume_from_their_latest_complete_checkpoint(runs: dict[str, Any]) -> None:
    trials = runs["kill"]["trials"]
    assert len(trials) == TRIALS
    for n, trial in enumerate(trials):
        assert "crash" not in trial, trial["crash"]
        before = trial["before"]
        assert trial["resumed_from"] == (before["latest"] or 0), (n, trial)
        if before["latest"] is not None:
            assert before["latest_state_step"] == before["latest"], (n, before)
        assert trial["after"]["latest"] == MAX_STEPS, (n, trial["after"])
    killed = [t for t in trials if t["killed_exit"] == -signal.SIGKILL]
    assert len(killed) >= TRIALS // 2, "most runs must really die mid-way"
    assert any(t["before"]["latest"] is None for t in killed)  # killed before its first checkpoint
    assert any(0 < (t["before"]["latest"] or 0) < MAX_STEPS for t in killed)  # killed mid-run


@POSIX
def test_no_partial_checkpoint_is_ever_visible(runs: dict[str, Any]) -> None:
    for trial in runs["kill"]["trials"]:
        assert trial["before"]["broken"] == [], trial["before"]
        assert trial["after"]["broken"] == [], trial["after"]


@POSIX
def test_resumed_runs_log_every_step_exactly_once(runs: dict[str, Any]) -> None:
    for trial in runs["kill"]["trials"]:
        assert trial["train_steps"] == list(range(1, MAX_STEPS + 1)), trial


# --------------------------------------------------------------- full disk
@POSIX
@pytest.mark.parametrize("scenario", ["disk_weights", "disk_state"])
def test_full_disk_keeps_the_previous_checkpoint(runs: dict[str, Any], scenario: str) -> None:
    disk = runs[scenario]
    assert disk["first"]["exit"] == 0
    full = disk["full"]
    assert full["status"] == 1, full  # the run fails...
    assert "Traceback" not in full["stderr"]
    assert full["stderr"].startswith("codex-ml train: error:") and full["stderr"].count("\n") == 1
    assert full["after"]["latest"] == 4 and full["after"]["latest_state_step"] == 4  # ...step 4 intact
    assert full["after"]["broken"] == [] and full["after"]["temp_files"] == []
    again = disk["again"]  # and once there is room again, it resumes from step 4
    assert again["resumed_from"] == 4 and again["after"]["latest"] == 8


@POSIX
@pytest.mark.parametrize("scenario", ["disk_weights", "disk_state"])
def test_full_disk_is_reported_as_a_checkpoint_error(runs: dict[str, Any], scenario: str) -> None:
    stderr = runs[scenario]["full"]["stderr"]
    assert "not a mistake codex-ml recognises" not in stderr
    assert "File too large" in stderr  # torch.save says only "unexpected pos 48768 vs 48656"
    assert f"{runs[scenario]['run']}/checkpoints/step-000006" in stderr


@POSIX
def test_a_torn_metrics_record_does_not_block_resume(runs: dict[str, Any]) -> None:
    again = runs["torn"]["again"]
    assert "crash" not in again, again.get("crash", "")[-600:]
    assert again["resumed_from"] == 4 and again["after"]["latest"] == 6
