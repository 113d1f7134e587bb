"""``codex-ml generate`` and ``codex_ml.load_run`` on a trained default run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_training_support import QUICK, cli, ok

torch = pytest.importorskip("torch")

TRAIN = ["training.max_steps=6", "training.eval_interval=2", "training.log_interval=2",
         "training.checkpoint_interval=2", "training.keep_checkpoints=3",
         "evaluate.num_samples=1", "evaluate.max_new_tokens=4", "training.run_name=r", "training.plot=false"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("gen")
    ok(cli(["train", *TRAIN], cwd))
    return cwd / "runs" / "r"


def test_load_run_gives_the_trained_weights(run_dir: Path) -> None:
    from safetensors.torch import load_file

    import codex_ml

    model, tokenizer = codex_ml.load_run(run_dir)
    assert not model.training and tokenizer.decode(tokenizer.encode("abc")) == "abc"
    saved = load_file(str(run_dir / "checkpoints" / "step-000006" / "model.safetensors"))
    assert torch.equal(model.state_dict()["blocks.0.fc_in.weight"], saved["blocks.0.fc_in.weight"])
    early, _ = codex_ml.load_run(run_dir, checkpoint="step-2")
    assert not torch.equal(early.state_dict()["blocks.0.fc_in.weight"],
                           saved["blocks.0.fc_in.weight"])


def test_best_is_the_lowest_validation_loss(run_dir: Path) -> None:
    from codex_ml.training.runs import select_checkpoint

    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    val = {r["step"]: r["loss"] for r in rows if r["split"] == "val" and r["step"] >= 2}
    assert select_checkpoint(run_dir, "best").name == f"step-{min(val, key=val.get):06d}"


def test_load_run_refusals(run_dir: Path, tmp_path: Path) -> None:
    from codex_ml import load_run
    from codex_ml.training.errors import CheckpointError, TrainingConfigError

    with pytest.raises(CheckpointError, match=r"step-5: .* keeps no such checkpoint; kept checkpoints: "
                       r"step-000002, step-000004, step-000006"):
        load_run(run_dir, "step-5")
    with pytest.raises(TrainingConfigError, match="'newest' is not latest, best or step-N"):
        load_run(run_dir, "newest")
    with pytest.raises(TrainingConfigError, match="is not a run directory: it has no config.yaml"):
        load_run(tmp_path)


def test_generate_is_deterministic_with_a_seed_and_batches(run_dir: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("The cat\nA dog ran\nThe sun\n")
    args = ["generate", f"run_dir={run_dir}", f"prompts_file={prompts}", "max_new_tokens=12",
            "temperature=0.9", "top_k=40", "top_p=0.9", "seed=7"]
    first, again = ok(cli(args, tmp_path)).stdout, ok(cli(args, tmp_path)).stdout
    assert first == again and first.splitlines()[1].startswith("A dog ran")
    assert len(first.splitlines()) == 3
    other = ok(cli([*args[:-1], "seed=8"], tmp_path)).stdout
    assert other != first


def test_greedy_equals_the_python_api(run_dir: Path, tmp_path: Path) -> None:
    from codex_ml import load_run
    from codex_ml.training.generate import Sampling, generate

    out = ok(cli(["generate", f"run_dir={run_dir}", "prompt=The cat", "max_new_tokens=10",
                  "checkpoint=best"], tmp_path)).stdout
    model, tokenizer = load_run(run_dir, "best")
    one = generate(model, tokenizer, ["The cat"], Sampling(max_new_tokens=10))
    batched = generate(model, tokenizer, ["The cat", "The dog", "A"], Sampling(max_new_tokens=10))
    assert out == "The cat" + one[0] + "\n" and batched[0] == one[0]


def test_generate_usage_and_errors(run_dir: Path, tmp_path: Path) -> None:
    bad = cli(["generate", f"run_dir={run_dir}", "temprature=1"], tmp_path)
    assert bad.returncode == 2 and "'temprature=1' is not one of" in bad.stderr
    assert cli(["generate", f"run_dir={run_dir}"], tmp_path).returncode == 2
    wrong = cli(["generate", f"run_dir={run_dir}", "prompt=x", "top_p=0"], tmp_path)
    assert wrong.returncode == 1 and "top_p must be in (0, 1]" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_top_k_and_top_p_filters() -> None:
    from codex_ml.training.generate import filter_logits

    logits = torch.tensor([[4.0, 3.0, 1.0, 0.0]])
    assert torch.isinf(filter_logits(logits, 2, 1.0)).tolist() == [[False, False, True, True]]
    def kept(p: float) -> list[list[bool]]:  # probabilities 0.696, 0.256, 0.035, 0.013
        return (~torch.isinf(filter_logits(logits, 0, p))).tolist()

    assert kept(0.6) == [[True, False, False, False]]
    assert kept(0.7) == [[True, True, False, False]]


def test_a_vocabulary_warning_is_one_line_in_every_command(tmp_path: Path) -> None:
    trained = ok(cli(["train", *QUICK, "model.vocab_size=300", "training.run_name=v300"], tmp_path))
    line = "warning: model 'decoder_only' has 300 token ids and tokenizer 'offline:bytes' 259"
    assert f"codex-ml train: {line}" in trained.stderr
    generated = ok(cli(["generate", "run_dir=runs/v300", "prompt=hi", "max_new_tokens=3"], tmp_path))
    assert f"codex-ml generate: {line}" in generated.stderr and "components.py" not in generated.stderr
