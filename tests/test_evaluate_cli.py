"""``python -m codex_ml.cli evaluate``: a run's checkpoint or a named model, as JSON."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures come from test_training_support by import)
import json
import re
from pathlib import Path

import pytest
from test_training_support import QUICK, cli, ok, records, workdir  # noqa: F401

from codex_ml.cli import hydra_app


def written(stdout: str, cwd: Path) -> dict:
    found = re.search(r"^wrote (\S+\.json)$", stdout, re.MULTILINE)
    assert found, stdout
    return json.loads((cwd / found.group(1)).read_text())


def test_seed_command_bare_group_path(workdir: Path) -> None:
    result = ok(cli(["evaluate", "-cn", "config", "metrics/offline/weighted_accuracy"], workdir))
    report = written(result.stdout, workdir)
    assert report["model"] == "decoder_only" and report["weights"].startswith("as built")
    assert {"loss", "perplexity", "token_accuracy", "weighted_accuracy"} <= set(report["metrics"])
    assert report["metrics"]["perplexity"] > 100  # an untrained byte-level model


def test_a_run_with_reward_model_and_agent(workdir: Path) -> None:
    # The whole held-out split at each evaluation, as `codex-ml evaluate` reads by default.
    ok(cli(["train", *QUICK, "training.eval_batches=0", "training.run_name=r"], workdir))
    result = ok(cli(["evaluate", "run_dir=runs/r", "reward_model.plugin=offline:length",
                     "rl_agent.plugin=offline:scripted", "evaluate.num_samples=3"], workdir))
    report = written(result.stdout, workdir)
    assert report["weights"].endswith("runs/r/checkpoints/step-000004")
    final = records(workdir / "runs" / "r", "val")[-1]
    assert report["metrics"]["perplexity"] == pytest.approx(final["perplexity"], rel=1e-4)
    assert len(report["samples"]) == 3 and len(report["reward_model"]["scores"]) == 3
    assert report["rl_agent"]["episodes"] == 3 and "mean_reward" in report["rl_agent"]
    assert [p.parent.name for p in (workdir / "runs" / "r").rglob("*.json")
            if p.parent.name == "evals"] == ["evals"]


def test_a_tiny_fixture_run(workdir: Path) -> None:
    ok(cli(["train", "-cn", "offline/tiny_fixtures", "training.run_name=t"], workdir))
    result = ok(cli(["evaluate", "-cn", "offline/tiny_fixtures", "run_dir=runs/t"], workdir))
    report = written(result.stdout, workdir)
    assert report["metrics"]["perplexity"] == pytest.approx(
        records(workdir / "runs" / "t", "val")[-1]["perplexity"])
    assert report["rl_agent"]["plugin"] == "offline:scripted"


def test_a_folder_that_is_not_a_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert hydra_app.run("evaluate", [f"run_dir={tmp_path}"]) == 1
    assert "is not a run directory: it has no config.yaml" in capsys.readouterr().err


def test_overrides_a_run_would_not_use_are_refused_by_name(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """They were dropped unsaid (and written into the result as if applied)."""
    (tmp_path / "config.yaml").write_text("model:\n  name: decoder_only\n")
    status = hydra_app.run("evaluate", [f"run_dir={tmp_path}", "model.name=minilm", "training.block_size=8",
                                        "training.device=cpu", "evaluate.num_samples=1"])
    err = capsys.readouterr().err
    assert status == 1 and list(tmp_path.iterdir()) == [tmp_path / "config.yaml"]
    assert (f"run_dir={tmp_path}: the model, tokenizer and training settings come from that run's own "
            "config.yaml, so model.name=minilm, training.block_size=8 would not be used. Fix: drop them") in err


def test_a_run_whose_config_is_not_yaml_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("model:\n  name: x\n: : [\n")
    assert hydra_app.run("evaluate", [f"run_dir={tmp_path}"]) == 1
    assert (f"{tmp_path / 'config.yaml'} is not valid YAML (line 3); the run directory is damaged. "
            "Fix: restore that file") in capsys.readouterr().err
