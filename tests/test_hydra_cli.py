"""``codex-ml train|evaluate`` is a Hydra application: the installed console script, as a
Hydra user would run it (multirun, launchers, sweepers, -cd, hydra.run.dir), and the
minimal install (no extras) saying what it lacks."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures come from test_training_support by import)
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import _prewarm
import pytest
from test_training_support import clean_env, ok, workdir  # noqa: F401

pytest.importorskip("torch")
REPO = Path(__file__).resolve().parents[1]
CODEX_ML = str(Path(sys.executable).with_name("codex-ml"))
# A model and run small enough to train in a second or two (loss.png is tests/test_plot.py's).
TINY = ["training.max_steps=2", "training.eval_interval=2", "training.log_interval=1",
        "training.checkpoint_interval=0", "training.block_size=16", "training.batch_size=4",
        "training.eval_batches=2", "model.kwargs.d_model=32", "model.kwargs.n_layers=1",
        "model.kwargs.n_heads=2", "evaluate.num_samples=1", "evaluate.max_new_tokens=2", "training.plot=false"]


def codex(args: list[str], cwd: Path, env: dict[str, str] | None = None,
          exe: str | None = None) -> subprocess.CompletedProcess[str]:
    """``codex-ml ARGS`` in ``cwd``: the script ``exe``, or forked from the prewarmed server."""
    argv = [exe, *args] if exe else _prewarm.argv(*args)
    return subprocess.run(argv, cwd=cwd, env=env or clean_env(), capture_output=True,
                          text=True, check=False, timeout=300)


def summary(run: Path) -> dict[str, Any]:
    return dict(json.loads((run / "summary.json").read_text()))


def jobs(sweep: Path) -> list[Path]:
    return sorted(p for p in sweep.iterdir() if (p / "summary.json").is_file())


def test_two_job_multirun(workdir: Path) -> None:
    result = ok(codex(["train", "-m", "training.learning_rate=0.001,0.004", *TINY,
                       "hydra.sweep.dir=sweep"], workdir))
    assert "Launching 2 jobs locally" in result.stdout + result.stderr
    runs = jobs(workdir / "sweep")
    assert [p.name for p in runs] == ["0", "1"]
    rates = [json.loads((p / "provenance.json").read_text()) and
             (p / "config.yaml").read_text().count("learning_rate: 0.004") for p in runs]
    assert rates == [0, 1]
    assert (workdir / "sweep" / "multirun.yaml").is_file()


def test_joblib_launcher_runs_jobs_in_parallel_processes(workdir: Path) -> None:
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    # The torch-free preset: each job runs in a new loky interpreter, and the launcher is what is
    # checked here (docs/guides/cli.md runs the same launcher on the default torch model).
    ok(codex(["train", "-cn", "offline/tiny_fixtures", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
              "training.seed=1,2", "hydra.sweep.dir=sweep"], workdir))
    pids = {json.loads((p / "provenance.json").read_text())["pid"] for p in jobs(workdir / "sweep")}
    assert len(pids) == 2  # two worker processes, not the launcher's own


def test_optuna_searches_the_learning_rate_against_the_final_validation_loss(workdir: Path) -> None:
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    ok(codex(["train", "-m", "hydra/sweeper=optuna", "hydra.sweeper.n_trials=3",
              "hydra.sweeper.sampler.seed=0", "training.learning_rate=interval(0.0005,0.01)",
              *TINY, "hydra.sweep.dir=sweep"], workdir))
    runs = jobs(workdir / "sweep")
    losses = [summary(p)["final_eval"]["loss"] for p in runs]
    assert len(runs) == 3
    import yaml

    best = yaml.safe_load((workdir / "sweep" / "optimization_results.yaml").read_text())
    assert best["best_value"] == pytest.approx(min(losses))
    assert set(best["best_params"]) == {"training.learning_rate"}


def test_submitit_local_composes_as_the_slurm_stand_in(workdir: Path) -> None:
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    out = ok(codex(["train", "--cfg", "hydra", "hydra/launcher=submitit_local",
                    "hydra.launcher.timeout_min=5"], workdir)).stdout
    assert "hydra_submitit_launcher.submitit_launcher.LocalLauncher" in out
    assert "timeout_min: 5" in out
    out = ok(codex(["train", "--cfg", "hydra", "hydra/launcher=submitit_slurm",
                    "hydra.launcher.partition=gpu"], workdir)).stdout
    assert "SlurmLauncher" in out and "partition: gpu" in out


def test_hydra_run_dir_is_the_run_folder(workdir: Path) -> None:
    result = ok(codex(["train", *TINY, "hydra.run.dir=out/here"], workdir))
    assert "wrote out/here:" in result.stdout
    assert {"config.yaml", "provenance.json", "summary.json"} <= {
        p.name for p in (workdir / "out" / "here").iterdir()}
    assert not (workdir / "runs").exists() and not (workdir / "outputs").exists()


def test_a_sweep_with_a_null_output_dir_goes_under_runs(workdir: Path) -> None:
    # offline/tiny_fixtures trains with training.output_dir=null (the functional trainer's file).
    result = ok(codex(["train", "-cn", "offline/tiny_fixtures", "-m", "training.seed=1,2"], workdir))
    assert "wrote None" not in result.stdout
    assert [p.name for p in workdir.iterdir()] == ["runs"]
    (sweep,) = (workdir / "runs").iterdir()
    assert sweep.name.startswith("multirun-") and [p.name for p in jobs(sweep)] == ["0", "1"]


def test_the_job_name_does_not_decide_where_a_run_goes(workdir: Path) -> None:
    result = ok(codex(["train", "-cn", "offline/tiny_fixtures", "hydra.job.name=foo",
                       "training.run_name=r"], workdir))
    assert "wrote runs/r:" in result.stdout
    assert [p.name for p in workdir.iterdir()] == ["runs"]
    ok(codex(["evaluate", "-cn", "offline/tiny_fixtures", "run_dir=runs/r", "hydra.job.name=train"],
             workdir))
    assert [p.name for p in workdir.iterdir()] == ["runs"]
    assert [p.name for p in (workdir / "runs").iterdir()] == ["r"]


def test_config_dir_holding_one_group_option_adds_it_to_the_packaged_groups(workdir: Path) -> None:
    mine = workdir / "conf" / "model"
    mine.mkdir(parents=True)
    (mine / "mine.yaml").write_text("name: minilm\nvocab_size: tokenizer\npath: null\n"
                                    "kwargs:\n  max_seq_len: ${training.block_size}\n  d_model: 24\n")
    ok(codex(["train", "-cd", "conf", "model=mine", *[a for a in TINY if a.startswith("training.")], "hydra.run.dir=r"], workdir))
    assert "d_model: 24" in (workdir / "r" / "config.yaml").read_text()
    wrong = codex(["train", "-cd", "conf", "model=mien"], workdir)
    assert wrong.returncode == 1 and "Did you mean 'mine'" in wrong.stderr
    assert "Traceback" not in wrong.stderr


@pytest.mark.parametrize(("argv", "expect"), [
    (["--info", "searchpath"], "pkg://codex_ml.configs"),
    (["--hydra-help"], "Hydra (1."),
    (["--cfg", "job", "--package", "training", "training.max_steps=7"], "max_steps: 7"),
    (["--cfg", "job", "--resolve", "training.block_size=32"], "max_seq_len: 32"),
    (["--shell-completion", "install=bash"], "COMP_LINE"),
])
def test_hydra_flags_mean_what_hydra_says(workdir: Path, argv: list[str], expect: str) -> None:
    assert expect in ok(codex(["train", *argv], workdir)).stdout


def test_usage_errors_exit_2_and_config_mistakes_exit_1(workdir: Path) -> None:
    bad_flag = codex(["train", "--multirn"], workdir)
    assert bad_flag.returncode == 2 and "Did you mean '--multirun'" in bad_flag.stderr
    two = codex(["train", "-m", "--cfg", "job"], workdir)
    assert two.returncode == 2 and "only one of" in two.stderr
    bad_key = codex(["train", "training.max_stpes=5"], workdir)
    assert bad_key.returncode == 1 and "Did you mean 'max_steps'" in bad_key.stderr
    assert len(bad_key.stderr.strip().splitlines()) == 1


def test_version(workdir: Path) -> None:
    from importlib.metadata import version

    assert ok(codex(["--version"], workdir)).stdout.strip() == f"codex-ml {version('codex-ml')}"


# ------------------------------------------------------------ minimal install
@pytest.fixture(scope="session")
def bare_codex(tmp_path_factory: pytest.TempPathFactory) -> str:
    """codex-ml installed with no extras into a venv holding nothing else (no pip even)."""
    root = tmp_path_factory.mktemp("bare")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(root / "wheel"), str(REPO)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    (wheel,) = (root / "wheel").glob("*.whl")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(root / "venv" / "bin" / "python"),
                    "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    return str(root / "venv" / "bin" / "codex-ml")


@pytest.mark.parametrize(("argv", "extra"), [
    (["train"], "cli"), (["evaluate", "run_dir=x"], "cli"), (["--help"], "cli"),
    (["docs", "build", "--out", "site"], "cli"), (["nonsense"], "cli"),
    (["generate", "run_dir=runs/x", "prompt=hi"], "torch"),
])
def test_minimal_install_names_the_extra_to_install(workdir: Path, bare_codex: str,
                                                    argv: list[str], extra: str) -> None:
    result = codex(argv, workdir, exe=bare_codex)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(f'Fix: pip install "codex-ml[{extra}]".')
    assert len(result.stderr.strip().splitlines()) == 1


def test_minimal_install_lists_and_reports_what_it_lacks(workdir: Path, bare_codex: str) -> None:
    assert ok(codex(["--version"], workdir, exe=bare_codex)).stdout.startswith("codex-ml ")
    assert "offline:tiny-sequence" in ok(codex(["list", "models"], workdir, exe=bare_codex)).stdout
    doctor = ok(codex(["doctor"], workdir, exe=bare_codex)).stdout
    assert 'extra [torch] not installed' in doctor and "models:decoder_only" in doctor
    explain = codex(["explain", "decoder_only"], workdir, exe=bare_codex)
    assert 'needs the optional extra [torch]' in explain.stdout + explain.stderr
    assert "repair or upgrade" not in explain.stdout + explain.stderr
    traced = codex(["train"], workdir, env=clean_env(CODEX_ML_TRACEBACK="1"), exe=bare_codex)
    assert traced.returncode == 1 and "Traceback" in traced.stderr


def test_one_variable_switches_tracebacks_on_and_a_typo_in_it_is_warned(workdir: Path) -> None:
    traced = codex(["train", "training.max_stpes=5"], workdir, clean_env(CODEX_ML_TRACEBACK="1"))
    assert traced.returncode == 1 and "Traceback" in traced.stderr
    typo = codex(["train", "training.max_stpes=5"], workdir, clean_env(CODEX_ML_TRACEBACK="ture"))
    assert "CODEX_ML_TRACEBACK='ture' is neither on" in typo.stderr
    assert typo.stderr.count("is neither on") == 1 and "Traceback" in typo.stderr


def test_a_primary_config_folder_keeps_the_packaged_groups(workdir: Path) -> None:
    conf = workdir / "myconf"
    conf.mkdir()
    (conf / "exp.yaml").write_text("defaults:\n  - config\n  - override model: minilm\n  - _self_\n"
                                   "training:\n  max_steps: 3\n")
    out = ok(codex(["train", "-cp", "myconf", "-cn", "exp", "--cfg", "job"], workdir)).stdout
    assert "name: minilm" in out and "max_steps: 3" in out


def test_hydra_job_chdir_and_job_logging_keep_hydras_meaning(workdir: Path) -> None:
    result = ok(codex(["train", *TINY, "hydra.run.dir=out/x", "hydra.job.chdir=true",
                       "hydra/job_logging=default"], workdir))
    run = workdir / "out" / "x"
    assert f"wrote {run}:" in result.stdout  # the working folder moved: the path is absolute
    assert {"config.yaml", "summary.json", "train.log"} <= {p.name for p in run.iterdir()}


def test_a_reader_that_goes_away_is_no_error(workdir: Path) -> None:
    """``codex-ml train --cfg job | head -0``: the pipe closes before anything is written."""
    proc = subprocess.Popen([CODEX_ML, "train", "--cfg", "job"], cwd=workdir, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and "BrokenPipe" not in err and "Traceback" not in err, err


def test_a_ctrl_c_that_an_import_swallowed_still_stops_the_run(workdir: Path) -> None:
    """torch's import can catch the KeyboardInterrupt of a SIGINT (numpy is imported inside
    it) and go on: the run then trained to the end and exited 0. Here a plugin file plays it."""
    (workdir / "plugins").mkdir()
    (workdir / "plugins" / "swallows.py").write_text(
        "import os, signal, time\n"
        "try:\n    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(5)\n"
        "except KeyboardInterrupt:\n    pass  # what a C extension's import may do\n")
    result = codex(["train", *TINY, "training.run_name=swallowed"], workdir)
    assert result.returncode == 130, result.stderr
    assert result.stderr.endswith("codex-ml train: interrupted\n")
    assert not (workdir / "runs" / "swallowed" / "summary.json").exists()


def test_a_commands_ctrl_c_is_forgotten_when_it_ends() -> None:
    """The record of a Ctrl-C outlived its command: a later library train() in the same process
    stopped at its first step."""
    import os
    import signal

    from codex_ml.utils import interrupts

    with interrupts.watching():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            signal.sigtimedwait([], 0.05)  # let the handler run here
        assert interrupts.pending()
    assert not interrupts.pending()
    interrupts.check()  # a library call after the command: nothing to stop for
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
