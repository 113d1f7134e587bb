"""``python -m codex_ml.cli train``: the documented command lines (docs/guides/training.md, docs/guides/cli.md), as written.

Runs are real subprocesses; GPT-2 is a tiny random checkpoint built by the
``gpt2_dir`` fixture and found through ``CODEX_ML_GPT2_PATH``. Mistakes are
checked in-process for speed (``hydra_app.run`` is what the CLI calls), and a
few in subprocesses to prove the exit codes and the absence of tracebacks.
"""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures come from test_training_support by import)
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _support import make_package, pip_install
from test_training_support import QUICK, clean_env, cli, gpt2_dir, ok, records, workdir  # noqa: F401

from codex_ml.cli import hydra_app

SEED_COMMAND = ["train", "-cn", "config", "model=offline/gpt2", "tokenizer=offline/gpt2",
                "data=offline/tiny_corpus", "training=offline/functional", "interfaces=offline"]


def summary(cwd: Path) -> dict[str, Any]:
    (run,) = (cwd / "runs").iterdir()
    return dict(json.loads((run / "summary.json").read_text()))


# ------------------------------------------------------------ as written
def test_seed_command_with_every_offline_fragment(workdir: Path, gpt2_dir: Path) -> None:
    result = ok(cli(SEED_COMMAND, workdir, clean_env(CODEX_ML_GPT2_PATH=str(gpt2_dir))))
    assert "wrote runs/" in result.stdout
    s = summary(workdir)
    assert (s["model"], s["trainer"], s["steps"]) == ("gpt2-offline", "offline:functional", 20)
    assert s["final_eval"]["loss"] < s["first_eval"]["loss"]
    assert s["evaluation"]["reward_model"]["plugin"] == "offline:length"
    assert s["evaluation"]["rl_agent"]["plugin"] == "offline:scripted"


def test_offline_catalogue_preset(workdir: Path, gpt2_dir: Path) -> None:
    ok(cli(["train", "-cn", "offline/catalogue"], workdir,
           clean_env(CODEX_ML_GPT2_PATH=str(gpt2_dir))))
    s = summary(workdir)
    assert s["model"] == "gpt2-offline" and "weighted_accuracy" in s["final_eval"]


def test_missing_gpt2_is_one_clear_message(workdir: Path) -> None:
    result = cli(["train", "-cn", "offline/catalogue"], workdir)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    err = result.stderr
    assert err.startswith("codex-ml train: error: codex_ml catalogue: could not find the GPT-2")
    assert "artifacts/models/gpt2" in err and "CODEX_ML_GPT2_PATH" in err
    assert not (workdir / "runs").exists()


def test_tiny_fixtures_preset_runs_without_torch(workdir: Path) -> None:
    code = ("import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
            "from codex_ml.cli.__main__ import main\n"
            "sys.exit(main(['train', '-cn', 'offline/tiny_fixtures']))")
    result = ok(subprocess.run([sys.executable, "-c", code], cwd=workdir, env=clean_env(),
                               capture_output=True, text=True, check=False, timeout=120))
    assert "eval step 1" in result.stdout
    s = summary(workdir)
    assert s["model"] == "offline:tiny-sequence" and s["device"] == "cpu (pure Python)"
    assert s["final_eval"]["perplexity"] < s["first_eval"]["perplexity"]
    assert s["final_eval"]["weighted_accuracy"] > s["first_eval"]["weighted_accuracy"]
    assert set(s["evaluation"]) >= {"samples", "reward_model", "rl_agent"}
    fitted = json.loads((workdir / s["checkpoint"] / "model.json").read_text())
    assert fitted["format"] == "codex_ml.tiny_sequence/v1" and fitted["counts"]


def test_opt_out_keys(workdir: Path, tmp_path: Path) -> None:
    text = tmp_path / "mine.txt"
    text.write_text("\n".join(f"my own line number {i} of text" for i in range(200)))
    result = ok(cli(["train", *QUICK, "model.name=MiniLM", f"dataset_loader.path={text}",
                     "reward_model.plugin=offline:length", "rl_agent.plugin=offline:scripted"],
                    workdir))
    assert "warning" not in result.stderr, result.stderr  # the seed's own keys: accepted silently
    s = summary(workdir)
    assert s["model"] == "MiniLM"
    assert s["evaluation"]["reward_model"]["plugin"] == "offline:length"
    assert s["evaluation"]["rl_agent"]["episodes"] == 1
    assert s["evaluation"]["samples"][0]["prompt"].startswith("my own line")


def test_hf_tokenizer_opt_out(workdir: Path, gpt2_dir: Path) -> None:
    ok(cli(["train", *QUICK, "tokenizer.name=hf", f"tokenizer.name_or_path={gpt2_dir}"], workdir))
    config = next((workdir / "runs").iterdir()) / "config.yaml"
    assert f"name_or_path: {gpt2_dir}" in config.read_text()


def test_a_pip_installed_model_and_trainer_class_work_by_name(workdir: Path, tmp_path: Path) -> None:
    project = make_package(tmp_path, "plugin-lm", {
        "codex_ml.models": {"plugin-bigram": "plugin_lm:BigramLM"},
        "codex_ml.trainers": {"plugin-smoothed": "plugin_lm:SmoothedTrainer"},
    }, {"plugin_lm.py": '''
        import torch
        from codex_ml.training import BaseTrainer

        class BigramLM(torch.nn.Module):
            def __init__(self, vocab_size):
                super().__init__()
                self.table = torch.nn.Embedding(vocab_size, vocab_size)

            def forward(self, input_ids):
                return self.table(input_ids)

        def _loss(model, batch, smoothing):
            x, y = batch
            logits = model(x)
            return torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), y.flatten(), label_smoothing=smoothing)

        class SmoothedTrainer(BaseTrainer):
            def training_step(self, batch, batch_idx):
                return {"loss": _loss(self.model, batch, 0.1)}

            def validation_step(self, batch, batch_idx):
                return _loss(self.model, batch, 0.0)
        '''})
    site = pip_install(project, tmp_path / "site")
    env = clean_env(PYTHONPATH=f"{site}:{clean_env().get('PYTHONPATH', '')}")
    # model.name=<plugin> alone: decoder_only's kwargs (d_model, ...) are not handed over.
    ok(cli(["train", *QUICK, "training.max_steps=6", "model.name=plugin-bigram",
            "training.name=plugin-smoothed"], workdir, env))
    s = summary(workdir)
    assert (s["model"], s["trainer"]) == ("plugin-bigram", "plugin-smoothed")
    assert s["final_eval"]["loss"] < s["first_eval"]["loss"]


# ------------------------------------------------------------- mistakes
def run_inline(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = hydra_app.run(argv[0], list(argv[1:]))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize(("argv", "code", "hint"), [
    (["train", "model=offline/gpt3"], 1, "Did you mean 'offline/gpt2'"),
    (["evaluate", "metrics/offline/weighted_acuracy"], 1, "Did you mean 'offline/weighted_accuracy'"),
    (["train", "training.max_stpes=5"], 1, "Did you mean 'max_steps'"),
    (["train", "trainingg.max_steps=5"], 1, "Did you mean 'training'"),
    (["train", "-cn", "offline/catalog"], 1, "Did you mean 'offline/catalogue'"),
    (["train", "model.name=decoder_onyl"], 1, "Did you mean 'decoder_only'"),
    (["train", "training.name=offline:functionl"], 1, "Did you mean 'offline:functional'"),
    (["train", "training.trainer=offline:functionl"], 1, "Did you mean 'offline:functional'"),
    (["train", "training.max_steps=abc"], 1, "training.max_steps='abc' is not allowed"),
    (["train", "dataset_loader.path=/no/such/corpus.txt"], 1, "/no/such/corpus.txt"),
    (["train", "--epochs", "3"], 2, "unknown option '--epochs'"),
    (["train", "training.max_steps=[1"], 2, "cannot parse override"),
    (["train", "nonsense"], 2, "neither an override"),
    (["train", "=3"], 2, "cannot parse override: Config group override must be a string or a list"),
    (["train", "-cp", "no-such-folder"], 1, "exists and readable. Fix: give -cp/--config-path a folder that exists"),
    (["trian"], 2, "unknown command 'trian'"),
])
def test_mistakes_get_one_paragraph_and_the_right_exit_code(
        capsys: pytest.CaptureFixture[str], workdir: Path, monkeypatch: pytest.MonkeyPatch,
        argv: list[str], code: int, hint: str) -> None:
    monkeypatch.chdir(workdir)
    got, err = run_inline(capsys, *argv)
    assert (got, hint in err) == (code, True), err


def test_a_mistake_in_a_real_process_exits_1_without_traceback(workdir: Path) -> None:
    result = cli(["train", "training.max_stpes=5"], workdir, real=True)  # a new interpreter, start to end
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one paragraph
    assert "Did you mean 'max_steps'" in result.stderr


def test_help_and_print_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert hydra_app.run("train", ["--help"]) == 0
    out = capsys.readouterr().out
    assert "model/offline: gpt2" in out and "metrics/offline: weighted_accuracy" in out
    assert "codex-ml train training.max_steps=50" in out  # our examples under Hydra's help
    assert hydra_app.run("train", ["--cfg", "job", "-cn", "offline/tiny_fixtures"]) == 0
    out = capsys.readouterr().out
    assert "name: offline:tiny-sequence" in out and "name: offline:scripted" in out


def test_a_group_missing_from_the_primary_config_is_appended(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bare.yaml").write_text("run_dir: null\n")
    code = hydra_app.run("train", ["-cd", str(tmp_path), "-cn", "bare", "--cfg", "job",
                                   "model/offline/gpt2"])
    assert code == 0 and "name: gpt2-offline" in capsys.readouterr().out


def test_training_records_are_plain_lines_when_not_a_terminal(workdir: Path) -> None:
    result = ok(cli(["train", *QUICK, "training.run_name=plain"], workdir))
    assert "step 2/4 | loss" in result.stdout and "tokens_per_sec" in result.stdout
    assert [r["step"] for r in records(workdir / "runs" / "plain", "val")] == [0, 2, 4]
