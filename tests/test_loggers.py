"""``loggers=[...]``: jsonl, TensorBoard event files, a plugin logger, broken ones that never stop training."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _support import EXAMPLES, make_package, pip_install
from test_training_support import clean_env, cli, ok

pytest.importorskip("torch")

QUICK = ["training.max_steps=6", "training.eval_interval=3", "training.log_interval=2",
         "training.checkpoint_interval=0", "evaluate.num_samples=2", "evaluate.max_new_tokens=4",
         "training.batch_size=4", "training.block_size=32", "training.eval_batches=2", "training.plot=false"]
BROKEN = {"broken_logger.py": "raise ImportError('the tracking server client is missing')\n",
          "flaky_logger.py": """
              from codex_ml.loggers import Logger

              class Flaky(Logger):
                  def scalars(self, step, split, values):
                      raise RuntimeError('tracking server went away')
              """}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("loggers")
    project = make_package(root, "bad-loggers", {"codex_ml.loggers": {
        "broken": "broken_logger:Broken", "flaky": "flaky_logger:Flaky"}}, BROKEN)
    return pip_install(EXAMPLES / "toy_logger", root / "site", project)


def env_for(site: Path) -> dict[str, str]:
    env = clean_env()
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def run(site: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    cwd = tmp_path_factory.mktemp("run")
    result = ok(cli(["train", *QUICK, "training.run_name=r",
                     "loggers=[jsonl,tensorboard,toy,broken,flaky]"], cwd, env_for(site)))
    return cwd / "runs" / "r", result.stdout + result.stderr


def test_tensorboard_event_files_read_back(run: tuple[Path, str]) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, _ = run
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"tensors": 0})
    events.Reload()
    assert {"train/loss", "train/lr", "val/loss", "val/perplexity"} <= set(events.Tags()["scalars"])
    val = [(e.step, e.value) for e in events.Scalars("val/loss")]
    jsonl = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    expected = [(r["step"], r["loss"]) for r in jsonl if r["split"] == "val"]
    assert [s for s, _ in val] == [s for s, _ in expected] == [0, 3, 6]
    assert [v for _, v in val] == pytest.approx([v for _, v in expected], rel=1e-6)
    assert {"config/text_summary", "samples/text_summary"} <= set(events.Tags()["tensors"])


def test_plugin_logger_gets_config_scalars_and_samples(run: tuple[Path, str]) -> None:
    run_dir, _ = run
    lines = [json.loads(x) for x in (run_dir / "toy_log.jsonl").read_text().splitlines()]
    events = [x["event"] for x in lines]
    assert events[0] == "start" and lines[0]["model"] == "decoder_only" and events[-1] == "close"
    assert {(x["step"], x["split"]) for x in lines if x["event"] == "scalars"} >= {(0, "val"), (6, "train")}
    samples = next(x for x in lines if x["event"] == "text")
    assert samples["tag"] == "samples" and samples["text"].count("- **") == 2


def test_broken_logger_plugins_never_stop_training(run: tuple[Path, str], site: Path) -> None:
    run_dir, output = run
    assert (run_dir / "summary.json").is_file()
    assert "logger 'broken' could not be built and is switched off" in output
    assert "the tracking server client is missing" in output and "bad-loggers" in output
    assert "logger 'flaky' raised in scalars() and is switched off" in output
    assert output.count("tracking server went away") == 1  # reported once, then dropped
    doctor = cli(["doctor"], run_dir, env_for(site))
    assert doctor.returncode == 1 and "broken" in doctor.stdout + doctor.stderr


def test_logger_registry_and_a_bad_spec(tmp_path: Path) -> None:
    from codex_ml.loggers.hub import logger_specs
    from codex_ml.registry import list_loggers, logger_registry
    from codex_ml.training.errors import TrainingConfigError

    assert {"jsonl", "tensorboard"} <= set(list_loggers())
    assert logger_registry.entry_point_group == "codex_ml.loggers"
    assert logger_specs({}) == [("jsonl", {})]
    assert logger_specs({"loggers": [{"name": "toy", "kwargs": {"prefix": "p"}}]}) == [
        ("toy", {"prefix": "p"})]
    with pytest.raises(TrainingConfigError, match=r"loggers: 3 is not a logger name"):
        logger_specs({"loggers": [3]})


def test_a_misspelt_logger_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    result = cli(["train", *QUICK, "loggers=[jsonl,tensorbord]"], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()  # one paragraph, no traceback
    assert line.startswith("codex-ml train: error: loggers: unknown logger 'tensorbord'.")
    assert "Did you mean 'tensorboard'?" in line and "jsonl, tensorboard" in line
    assert "switched off" not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []  # no run folder, no runs/
    (tmp_path / "mine").mkdir()  # an output folder the user made stays, empty or not
    assert cli(["train", *QUICK, "training.output_dir=mine", "loggers=[tensorbord]"], tmp_path).returncode == 1
    assert [p.name for p in tmp_path.iterdir()] == ["mine"] and not any((tmp_path / "mine").iterdir())


def test_the_last_line_lists_the_files_the_run_really_wrote(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    result = ok(cli(["train", *QUICK, "training.run_name=tb", "loggers=[tensorboard]"], tmp_path))
    assert "wrote runs/tb: config.yaml, summary.json, tensorboard/, checkpoints/\n" in result.stdout
    assert not (tmp_path / "runs" / "tb" / "metrics.jsonl").exists()


def test_the_torch_free_preset_uses_the_chosen_loggers_too(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    ok(cli(["train", "-cn", "offline/tiny_fixtures", "training.run_name=tiny", "loggers=[jsonl,tensorboard]"],
           tmp_path))
    run_dir = tmp_path / "runs" / "tiny"
    assert list((run_dir / "tensorboard").iterdir()) and (run_dir / "metrics.jsonl").is_file()
    ok(cli(["train", "-cn", "offline/tiny_fixtures", "training.run_name=tb", "loggers=[tensorboard]"], tmp_path))
    assert not (tmp_path / "runs" / "tb" / "metrics.jsonl").exists()
