"""Run folders you can trust: locked while written, resumed only when compatible (and then
untouched on refusal), evaluated against the files they were trained on, with damaged
checkpoints and pointers explained. Runs go through the installed ``codex-ml`` script."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures come from test_training_support by import)
import json
import os
import shutil
from pathlib import Path

import pytest
from test_hydra_cli import TINY, codex
from test_training_support import clean_env, gpt2_dir, ok, workdir  # noqa: F401

torch = pytest.importorskip("torch")

from codex_ml.training import checkpoint
from codex_ml.training.errors import CheckpointError, RunWriteError, TrainingConfigError
from codex_ml.training.rundir import Run
from codex_ml.training.runplan import RunLock, pick_run_dir

SAVE = [a for a in TINY if not a.startswith("training.checkpoint_interval")] + [
    "training.checkpoint_interval=1", "training.keep_checkpoints=3"]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and modification time, and every folder, under ``folder``."""
    return {str(p.relative_to(folder)): ((p.read_bytes(), p.stat().st_mtime_ns) if p.is_file()
                                         else (b"<dir>", 0)) for p in sorted(folder.rglob("*"))}


def trained(workdir: Path, name: str = "r", *extra: str) -> Path:
    ok(codex(["train", *SAVE, f"training.run_name={name}", *extra], workdir))
    return workdir / "runs" / name


def latest_eval(run: Path) -> dict:
    return json.loads(max((run / "evals").glob("*.json")).read_text())


# ------------------------------------------------------------------ resume
def test_a_refused_resume_leaves_every_byte_of_the_run_folder_untouched(workdir: Path) -> None:
    run = trained(workdir)
    before = snapshot(run)
    result = codex(["train", *SAVE, "training.run_name=r", "training.resume=true",
                    "model.kwargs.d_model=64", "training.max_steps=4"], workdir)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot resume runs/r" in result.stderr and "model.kwargs.d_model: 32 in the run, 64" \
        in result.stderr and "Nothing in the run folder was changed" in result.stderr
    assert snapshot(run) == before


def test_resume_may_change_max_steps_and_says_which_run_it_picked(workdir: Path) -> None:
    trained(workdir)
    out = ok(codex(["train", *SAVE, "training.max_steps=3", "training.resume=true"], workdir)).stdout
    assert "continuing runs/r" in out and "(resumed at step 2)" in out
    trained(workdir, "other")
    (workdir / "runs" / "r" / "summary.json").unlink()
    (workdir / "runs" / "other" / "summary.json").unlink()  # two unfinished runs: ambiguous
    again = codex(["train", *SAVE, "training.resume=true"], workdir)
    assert again.returncode == 1 and "is ambiguous" in again.stderr and "other" in again.stderr


def test_a_second_run_of_the_same_name_fails_at_once_while_the_first_writes(workdir: Path) -> None:
    lock = RunLock(workdir / "runs" / "busy").acquire()  # what a running `train` holds
    try:
        result = codex(["train", *TINY, "training.run_name=busy"], workdir)
    finally:
        lock.release()
    assert result.returncode == 1 and "another codex-ml run is writing runs/busy" in result.stderr
    assert list((workdir / "runs" / "busy").iterdir()) == []


def test_runs_started_in_the_same_second_each_get_their_own_timestamped_folder(tmp_path: Path) -> None:
    """Both picked the same free name, so one found it locked by the other and failed: now the
    one that finds the clock-named folder taken (locked, or holding a run) takes the next name."""
    from codex_ml.training.runplan import plan_run
    from codex_ml.training.settings import TrainSettings

    settings = TrainSettings(output_dir=str(tmp_path))
    picked = tmp_path / "20261202-134228"  # what both processes' Hydra resolved
    first = plan_run({}, picked, settings)
    try:
        second = plan_run({}, picked, settings)
        (second.path / "metrics.jsonl").write_text("")  # the second run has written
        second.lock.release()
        third = plan_run({}, picked, settings)
        third.lock.release()
    finally:
        first.lock.release()
    assert (first.path, second.path, third.path) == (
        picked, tmp_path / "20261202-134228-2", tmp_path / "20261202-134228-3")
    named = RunLock(tmp_path / "named").acquire()
    try:  # a name the user chose is never swapped for another
        with pytest.raises(TrainingConfigError, match="another codex-ml run is writing"):
            plan_run({}, tmp_path / "named", TrainSettings(output_dir=str(tmp_path), run_name="named"))
    finally:
        named.release()


def test_resuming_a_run_that_is_not_there_says_so_and_names_the_close_one(tmp_path: Path) -> None:
    from codex_ml.training.runplan import plan_run
    from codex_ml.training.settings import TrainSettings

    (tmp_path / "myrun" / "checkpoints").mkdir(parents=True)
    (tmp_path / "myrun" / "checkpoints" / "latest").write_text("step-000004\n")
    plan = plan_run({}, None, TrainSettings(output_dir=str(tmp_path), run_name="myrnu", resume=True))
    plan.lock.release()
    assert not plan.resumed and plan.notes == [(
        f"training.resume=true: {tmp_path / 'myrnu'} holds no run to continue, so it starts at step 0. "
        "Did you mean training.run_name=myrun?")]


@pytest.mark.parametrize("name", ["../elsewhere", "..", ""])
def test_pick_run_dir_refuses_a_path_as_a_run_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(TrainingConfigError, match="is not a folder name"):
        pick_run_dir(str(tmp_path), name, False)


@pytest.mark.parametrize("name", ["a b", "semi;colon", "bs16@lr3e-4"])
def test_a_new_run_name_is_one_shell_word_and_an_existing_run_keeps_its_own(tmp_path: Path, name: str) -> None:
    """Earlier versions accepted any name without '/': such runs must still resume by name."""
    with pytest.raises(TrainingConfigError, match=r"a new run's name may use only letters, digits"):
        pick_run_dir(str(tmp_path), name, False)
    (tmp_path / name).mkdir()
    assert pick_run_dir(str(tmp_path), name, True) == tmp_path / name


def test_a_bad_run_name_is_our_paragraph_not_omegaconfs(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.cli import hydra_app

    monkeypatch.chdir(tmp_path)
    assert hydra_app.run("train", ["training.run_name=../escape"]) == 1
    assert capsys.readouterr().err == (
        "codex-ml train: error: training.run_name='../escape' is not a folder name; "
        "use letters, digits, '-', '_' or '.'.\n")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------- evaluate
def test_evaluate_on_another_file_gives_another_loss_and_says_so(workdir: Path) -> None:
    run = trained(workdir)
    ok(codex(["evaluate", "run_dir=runs/r"], workdir))
    own = latest_eval(run)
    (workdir / "mine.txt").write_text("zzzz qqqq zzzz qqqq\n" * 40)
    out = ok(codex(["evaluate", "run_dir=runs/r", "data=lines", "dataset_loader.path=mine.txt"],
                   workdir)).stdout
    theirs = latest_eval(run)
    assert "evaluating on lines mine.txt from the command line" in out
    assert theirs["data"] == {"name": "lines", "path": "mine.txt", "source": "the command line"}
    assert own["data"]["source"].startswith("the run's own data")
    assert theirs["metrics"]["loss"] != pytest.approx(own["metrics"]["loss"], abs=1e-3)
    assert "data=lines" in theirs["overrides"] and len(list((run / "evals").iterdir())) == 2
    missing = codex(["evaluate", "run_dir=runs/r", "data=lines", "dataset_loader.path=nope.txt"],
                    workdir)
    assert missing.returncode == 1 and "nope.txt does not exist" in missing.stderr


def test_checkpoint_choice_latest_best_and_step(workdir: Path) -> None:
    run = trained(workdir, "r", "training.max_steps=3", "training.eval_interval=1")
    losses = {r["step"]: r["loss"] for r in map(json.loads, (run / "metrics.jsonl").open())
              if r["split"] == "val" and r["step"] >= 1}
    ok(codex(["evaluate", "run_dir=runs/r", "checkpoint=best"], workdir))
    assert latest_eval(run)["weights"].endswith(f"step-{min(losses, key=losses.get):06d}")
    ok(codex(["evaluate", "run_dir=runs/r", "checkpoint=step-000002"], workdir))
    assert latest_eval(run)["weights"].endswith("step-000002")
    bad = codex(["evaluate", "run_dir=runs/r", "checkpoint=step-9"], workdir)
    assert bad.returncode == 1 and "step-000001, step-000002, step-000003" in bad.stderr


def test_evaluate_refuses_a_changed_model_folder(workdir: Path, gpt2_dir: Path) -> None:
    model = workdir / "gpt2"
    shutil.copytree(gpt2_dir, model)
    env = clean_env(CODEX_ML_GPT2_PATH=str(model))
    ok(codex(["train", "model=offline/gpt2", "tokenizer=offline/gpt2", *SAVE[:4],
              "evaluate.num_samples=1", "evaluate.max_new_tokens=2", "training.run_name=g"],
             workdir, env))
    recorded = json.loads((workdir / "runs" / "g" / "provenance.json").read_text())
    assert recorded["artefacts"]["model"]["path"] == str(model.resolve())
    assert recorded["components"]["model"]["distribution"] == "codex-ml"
    with open(model / "config.json", "a") as handle:
        handle.write(" ")
    refused = codex(["evaluate", "run_dir=runs/g"], workdir, env)
    assert refused.returncode == 1 and "refusing to evaluate runs/g" in refused.stderr
    assert f"model {model.resolve()} (model.path) changed since training" in refused.stderr
    anyway = ok(codex(["evaluate", "run_dir=runs/g", "evaluate.allow_changed=true"], workdir, env))
    assert "changed since training" in anyway.stdout
    assert latest_eval(workdir / "runs" / "g")["artefacts_changed"]
    shutil.move(model, workdir / "moved")  # the environment points nowhere; the record wins
    gone = codex(["evaluate", "run_dir=runs/g"], workdir, clean_env(CODEX_ML_GPT2_PATH=str(workdir / "moved")))
    assert gone.returncode == 1 and "is gone (moved or deleted)" in gone.stderr


# ------------------------------------------------- damaged checkpoints, pointers
def _saved(tmp_path: Path, steps: tuple[int, ...] = (1, 2)) -> Path:
    model = torch.nn.Linear(2, 2)
    for step in steps:
        checkpoint.save_torch(tmp_path, step, model, {"rng": checkpoint.capture_rng(),
                                                      "optimizer": {}, "scheduler": {}}, 5)
    return tmp_path


def test_a_truncated_weights_file_is_named_with_the_earlier_step_to_resume_from(tmp_path: Path) -> None:
    root = _saved(tmp_path)
    weights = root / "step-000002" / checkpoint.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(CheckpointError, match=r"step-000002/model.safetensors is damaged or "
                                              r"incomplete.*add checkpoint=step-000001; to resume training "
                                              r"from it, .*echo step-000001 >"):
        checkpoint.load_weights(root / "step-000002", torch.nn.Linear(2, 2))


def test_a_missing_latest_pointer_names_the_checkpoints_that_are_kept(tmp_path: Path) -> None:
    from codex_ml.training.runs import select_checkpoint

    _saved(tmp_path / "checkpoints", steps=(150, 200))
    (tmp_path / "checkpoints" / checkpoint.LATEST).unlink()
    with pytest.raises(CheckpointError, match=r"checkpoints/latest is missing, but .* keeps step-000150, "
                                              r"step-000200: pick one with checkpoint=step-000200\."):
        select_checkpoint(tmp_path)


def test_a_state_file_missing_keys_is_named(tmp_path: Path) -> None:
    root = _saved(tmp_path)
    torch.save({"step": 2}, root / "step-000002" / checkpoint.STATE)
    with pytest.raises(CheckpointError, match=r"state.pt is incomplete: it lacks optimizer, "
                                              r"scheduler, rng.*step-000001"):
        checkpoint.load_state(root / "step-000002")


@pytest.mark.parametrize("plant", ["outside", "symlink", "fifo", "huge", "folder-link"])
def test_the_latest_pointer_stays_inside_its_checkpoints_folder(tmp_path: Path, plant: str) -> None:
    root = _saved(tmp_path / "ckpt")
    pointer = root / checkpoint.LATEST
    pointer.unlink()
    other = tmp_path / "other-run"
    shutil.copytree(root / "step-000001", other / "step-000009")
    if plant == "outside":
        pointer.write_text("../../other-run/step-000009\n")
    elif plant == "symlink":
        pointer.symlink_to(other / "step-000009" / checkpoint.STATE)
    elif plant == "fifo":
        os.mkfifo(pointer)
    elif plant == "huge":
        pointer.write_text("step-000001" + " " * 10_000)
    else:
        (root / "step-000009").symlink_to(other / "step-000009")
        pointer.write_text("step-000009\n")
    with pytest.raises(CheckpointError, match=str(root)):
        checkpoint.latest_checkpoint(root)
    assert sorted(p.name for p in root.glob("step-00000[12]")) == ["step-000001", "step-000002"]


def test_a_refused_run_file_is_one_paragraph_said_once(tmp_path: Path) -> None:
    import re

    from codex_ml.training.runs import select_checkpoint

    pointer = _saved(tmp_path / "checkpoints") / checkpoint.LATEST
    pointer.chmod(0o646)  # another account could rewrite it
    with pytest.raises(CheckpointError) as refused:
        select_checkpoint(tmp_path)
    assert re.fullmatch(rf"refusing to read {re.escape(str(pointer))}: it is writable by other users "
                        r"\(mode 646\)\. Another account could have put it there or could change "
                        r"it\. Fix: .*, or point codex_ml at another copy\.", str(refused.value))


def test_a_full_disk_while_logging_names_the_metrics_file(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("this system has no /dev/full to stand in for a full disk")
    run = Run(tmp_path)
    (tmp_path / "metrics.jsonl").symlink_to("/dev/full")
    with pytest.raises(RunWriteError, match=r"could not append to .*metrics.jsonl: No space left"):
        run.log({"step": 1, "loss": 1.0})


def test_an_ambiguous_resume_counts_the_runs_it_names(tmp_path: Path) -> None:
    from codex_ml.training.runplan import pick_resumable

    for i in range(8):
        (tmp_path / f"run-{i}" / "checkpoints" / "latest").mkdir(parents=True)
        os.utime(tmp_path / f"run-{i}" / "checkpoints" / "latest", (1_000_000 + i, 1_000_000 + i))
    with pytest.raises(TrainingConfigError, match=r"holds 8 runs that could be continued \(run-7, run-6, run-5, "
                                                  r"run-4, run-3, run-2 and 2 more, newest first\)\. Name one"):
        pick_resumable(tmp_path)
