"""``codex-ml export``: transformers folders (plain and LoRA) and the in-package decoder."""
from __future__ import annotations

from pathlib import Path

import pytest
from _support import needs
from test_training_support import cli, ok

torch = pytest.importorskip("torch")
pytestmark = [needs("transformers", "peft")]

QUICK = ["training.max_steps=4", "training.eval_interval=2", "training.log_interval=2",
         "training.checkpoint_interval=2", "training.block_size=32", "training.batch_size=4",
         "evaluate.num_samples=1", "evaluate.max_new_tokens=4", "training.eval_batches=2", "training.plot=false"]
LORA = ["model.lora.r=4", "model.lora.alpha=8", "model.lora.target_modules=[c_attn]"]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from codex_ml.models.tiny_checkpoints import write_tiny_gpt2

    cwd = tmp_path_factory.mktemp("export")
    gpt2 = write_tiny_gpt2(cwd / "gpt2")
    hf = ["model=offline/gpt2", "tokenizer=offline/gpt2", f"model.path={gpt2}",
          f"tokenizer.path={gpt2}", *QUICK]
    ok(cli(["train", *hf, "training.run_name=plain"], cwd))
    ok(cli(["train", *hf, *LORA, "training.run_name=lora"], cwd))
    return cwd


def logits(model: object, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits  # type: ignore[operator,attr-defined]


def reload(folder: Path) -> tuple[object, object]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True),
            AutoTokenizer.from_pretrained(str(folder), local_files_only=True))


def test_gpt2_export_loads_in_transformers_with_the_same_logits(work: Path) -> None:
    from codex_ml import load_run

    ok(cli(["export", "run_dir=runs/plain", "out=out/plain"], work))
    files = {p.name for p in (work / "out" / "plain").iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= files
    model, tokenizer = reload(work / "out" / "plain")
    run_model, run_tokenizer = load_run(work / "runs" / "plain")
    ids = run_tokenizer.encode("the cat sat on the mat")
    assert tokenizer.encode("the cat sat on the mat") == ids
    torch.testing.assert_close(logits(model, ids), logits(run_model, ids), rtol=1e-5, atol=1e-6)


def test_lora_run_records_parameters_resumes_and_exports(work: Path) -> None:
    import json

    from peft import AutoPeftModelForCausalLM

    from codex_ml import load_run

    summary = json.loads((work / "runs" / "lora" / "summary.json").read_text())
    counts = summary["parameters"]
    assert 0 < counts["trainable"] < counts["total"] / 10
    hf = ["model=offline/gpt2", "tokenizer=offline/gpt2", f"model.path={work / 'gpt2'}",
          f"tokenizer.path={work / 'gpt2'}", *QUICK, *LORA]
    resumed = ok(cli(["train", *hf, "training.max_steps=6", "training.run_name=lora",
                      "training.resume=true"], work))
    assert "resumed at step 4" in resumed.stdout + resumed.stderr
    ok(cli(["evaluate", "run_dir=runs/lora"], work))
    run_model, tokenizer = load_run(work / "runs" / "lora")
    ids = tokenizer.encode("the dog ran")
    ok(cli(["export", "run_dir=runs/lora", "out=out/merged"], work))
    merged, _ = reload(work / "out" / "merged")
    assert not any("lora" in name for name, _ in merged.named_parameters())
    torch.testing.assert_close(logits(merged, ids), logits(run_model, ids), rtol=1e-5, atol=1e-6)
    ok(cli(["export", "run_dir=runs/lora", "out=out/adapter", "lora=adapter"], work))
    assert (work / "out" / "adapter" / "adapter_config.json").is_file()
    adapter = AutoPeftModelForCausalLM.from_pretrained(str(work / "out" / "adapter"))
    torch.testing.assert_close(logits(adapter, ids), logits(run_model, ids), rtol=1e-5, atol=1e-6)


def test_decoder_export_is_read_by_load_run(work: Path) -> None:
    from codex_ml import load_run

    ok(cli(["train", *QUICK, "training.run_name=dec"], work))
    ok(cli(["export", "run_dir=runs/dec", "out=out/dec"], work))
    exported, tokenizer = load_run(work / "out" / "dec")
    run_model, _ = load_run(work / "runs" / "dec")
    ids = tokenizer.encode("hello")
    torch.testing.assert_close(logits(exported, ids), logits(run_model, ids), rtol=1e-5, atol=1e-6)
    again = cli(["export", "run_dir=runs/dec", "out=out/dec"], work)
    assert again.returncode == 1 and "already exists and is not an empty folder" in again.stderr


def test_what_cannot_be_exported_is_refused(work: Path) -> None:
    ok(cli(["train", "-cn", "offline/tiny_fixtures", "training.run_name=tiny"], work))
    tiny = cli(["export", "run_dir=runs/tiny", "out=out/tiny"], work)
    assert tiny.returncode == 1 and "not a PyTorch model" in tiny.stderr
    adapter = cli(["export", "run_dir=runs/plain", "out=out/x", "lora=both"], work)
    assert adapter.returncode == 1 and "lora='both': choose merge or adapter" in adapter.stderr
    assert not (work / "out" / "tiny").exists() and not (work / "out" / "x").exists()
    (work / "afile").write_text("")
    blocked = cli(["export", "run_dir=runs/plain", "out=afile/x"], work)
    assert blocked.returncode == 1 and blocked.stderr.strip().endswith(
        "cannot write the export to afile/x: File exists (making a folder in afile). "
        "Fix: pass out= a new folder in a place you can write.")


def test_a_run_on_the_working_folders_gpt2_is_used_from_another_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """model=offline/gpt2 found artifacts/models/gpt2 under the training's working folder:
    generate, export and load_run elsewhere use that folder (as evaluate does), not their own."""
    from codex_ml import load_run
    from codex_ml.catalogue import paths
    from codex_ml.models.tiny_checkpoints import write_tiny_gpt2

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    write_tiny_gpt2(project / "artifacts" / "models" / "gpt2")
    elsewhere.mkdir()
    ok(cli(["train", "model=offline/gpt2", "tokenizer=offline/gpt2", "data=offline/tiny_corpus",
            "training=offline/functional", "interfaces=offline", "training.max_steps=2",
            "training.plot=false", "evaluate.num_samples=1", "training.run_name=g"], project))
    run = str(project / "runs" / "g")
    assert ok(cli(["generate", f"run_dir={run}", "prompt=hi", "max_new_tokens=2"], elsewhere)).stdout
    ok(cli(["export", f"run_dir={run}", "out=x"], elsewhere))
    assert (elsewhere / "x" / "tokenizer.json").is_file()
    for var in paths.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(elsewhere)
    _, tokenizer = load_run(run)
    assert tokenizer.encode("hi")
    # The whole project moved: the recorded folder is gone, so it is searched for as at training.
    moved = project.rename(tmp_path / "moved")
    ok(cli(["generate", "run_dir=runs/g", "prompt=hi", "max_new_tokens=2"], moved))
    monkeypatch.chdir(moved)
    assert load_run("runs/g")[1].encode("hi")
