"""The training pieces in-process: settings, schedule, batches, steps, trainers, data.

A stand-in model defined here (a bigram LM) exercises the loop the way a
plugin model would: registered by name, built through the registry.
"""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from codex_ml.registry import model_registry, trainer_registry
from codex_ml.tokenizers.bytes import ByteTokenizer
from codex_ml.training import BaseTrainer
from codex_ml.training.batches import TrainBatches, eval_batches
from codex_ml.training.data import make_splits, split_records
from codex_ml.training.distributed import DistContext
from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.functional import FunctionalTrainer, build_functional_trainer
from codex_ml.training.jobs import train
from codex_ml.training.loop import lr_factor, make_optimizer, train_step
from codex_ml.training.settings import TrainSettings, merge_settings

CPU = torch.device("cpu")


class BigramLM(torch.nn.Module):
    """The smallest causal LM: next-token logits from the current token only."""

    def __init__(self, vocab_size: int = 259, **_: Any) -> None:
        super().__init__()
        self.vocab_size = vocab_size  # how the training loop learns the model's number of ids
        self.table = torch.nn.Embedding(vocab_size, vocab_size)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.table(input_ids)


def ctx(rank: int = 0, world: int = 1) -> DistContext:
    return DistContext(rank, rank, world, CPU, None)


def tiny_cfg(tmp_path: Path, **training: Any) -> dict[str, Any]:
    """A plain-dict run config: byte tokenizer, tiny corpus, the stand-in model."""
    base = {"name": "offline:functional", "path": None, "kwargs": {},
            "max_steps": 6, "batch_size": 8, "block_size": 32, "eval_interval": 3,
            "log_interval": 3, "checkpoint_interval": 0, "device": "cpu", "warmup_steps": 1,
            "output_dir": str(tmp_path / "runs"), "run_name": "unit"}
    return {
        "model": {"name": "test-bigram", "vocab_size": "tokenizer", "path": None, "kwargs": {}},
        "tokenizer": {"name": "offline:bytes", "name_or_path": None, "path": None, "kwargs": {}},
        "dataset_loader": {"name": "offline:tiny-corpus", "path": None, "kwargs": {},
                           "val_fraction": 0.1, "stride": None},
        "training": {**base, **training},
        "metrics": {"token_accuracy": {"name": "accuracy@token", "inputs": "token_ids",
                                       "kwargs": {}}},
        "reward_model": {"name": None}, "rl_agent": {"name": None},
        "evaluate": {"num_samples": 1, "max_new_tokens": 4},
    }


@pytest.fixture
def bigram() -> Any:
    with model_registry.snapshot():
        model_registry.register("test-bigram", BigramLM)
        yield BigramLM


# ---------------------------------------------------------------- settings
def test_settings_reject_unknown_keys_with_a_suggestion() -> None:
    with pytest.raises(TrainingConfigError, match="Did you mean 'max_steps'"):
        merge_settings(("cli", {"max_stpes": 3}))


def test_settings_check_values_and_types() -> None:
    with pytest.raises(TrainingConfigError, match="training.max_steps must be an integer >= 1"):
        TrainSettings(max_steps=0)
    with pytest.raises(TrainingConfigError, match="training.learning_rate='fast' is not allowed"):
        merge_settings(("cli", {"learning_rate": "fast"}))
    with pytest.raises(TrainingConfigError, match="precision must be one of fp32, bf16"):
        TrainSettings(precision="fp8")


def test_later_layers_win_and_none_does_not_override() -> None:
    s = merge_settings(("json", {"max_steps": 9, "batch_size": 4}), ("cli", {"max_steps": None,
                                                                             "batch_size": 2}))
    assert (s.max_steps, s.batch_size) == (9, 2)


def test_global_batch_must_split_over_processes_and_micro_steps() -> None:
    s = TrainSettings(batch_size=16, grad_accum_steps=2)
    assert s.micro_batch(1) == 8 and s.micro_batch(2) == 4
    with pytest.raises(TrainingConfigError, match="multiple of 6"):
        s.micro_batch(3)


def test_functional_trainer_reads_its_json_through_the_catalogue(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "trainer.json"
    file.write_text(json.dumps({"name": "mine", "max_steps": 7, "learning_rate": 0.01}))
    monkeypatch.setenv("CODEX_ML_FUNCTIONAL_TRAINER_CONFIG", str(file))
    trainer = build_functional_trainer(max_steps=None, batch_size=2)
    assert (trainer.settings.max_steps, trainer.settings.learning_rate) == (7, 0.01)
    assert trainer.settings.batch_size == 2 and trainer.source == str(file)
    assert trainer_registry.create("offline:functional").settings.max_steps == 7
    file.write_text(json.dumps({"max_stepz": 7}))
    with pytest.raises(TrainingConfigError, match=f"{file}.*Did you mean 'max_steps'"):
        build_functional_trainer()


def test_missing_trainer_json_lists_where_it_looked(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ML_FUNCTIONAL_TRAINER_CONFIG", str(tmp_path / "nope.json"))
    with pytest.raises(FileNotFoundError, match="CODEX_ML_FUNCTIONAL_TRAINER_CONFIG"):
        build_functional_trainer()


# ---------------------------------------------------------------- schedule
def test_warmup_then_cosine_to_the_floor() -> None:
    f = [lr_factor(step, warmup=4, total=20, floor=0.1) for step in range(21)]
    assert f[0] == pytest.approx(1 / 5) and f[3] == pytest.approx(4 / 5)
    assert f[4] == pytest.approx(1.0) and f[20] == pytest.approx(0.1)
    assert all(a >= b for a, b in itertools.pairwise(f[4:]))  # monotone decay after warmup
    assert f[12] == pytest.approx(0.1 + 0.9 * 0.5)  # halfway: cosine at pi/2


# ----------------------------------------------------------------- batches
def test_rank_shards_together_are_the_single_process_global_batch() -> None:
    ids = list(range(3000))
    single = TrainBatches(ids, 16, 8, micro_batch=4, accum_steps=2, ctx=ctx(), seed=3)
    ranks = [TrainBatches(ids, 16, 8, micro_batch=4, accum_steps=1, ctx=ctx(r, 2), seed=3)
             for r in (0, 1)]
    assert single.steps_per_epoch == ranks[0].steps_per_epoch
    for step in (0, 5, single.steps_per_epoch + 1):  # across an epoch boundary too
        one = torch.cat([single.get(step, m)[0] for m in range(2)])
        both = torch.cat([r.get(step, 0)[0] for r in ranks])
        assert sorted(map(tuple, one.tolist())) == sorted(map(tuple, both.tolist()))


def test_batches_are_a_pure_function_of_the_step() -> None:
    ids = list(range(2000))
    a = TrainBatches(ids, 16, 8, 4, 1, ctx(), seed=1)
    b = TrainBatches(ids, 16, 8, 4, 1, ctx(), seed=1)
    x, y = a.get(7, 0)
    assert torch.equal(x, b.get(7, 0)[0]) and torch.equal(y[:, :-1], x[:, 1:])
    assert not torch.equal(x, TrainBatches(ids, 16, 8, 4, 1, ctx(), seed=2).get(7, 0)[0])


def test_too_little_data_is_explained() -> None:
    with pytest.raises(TrainingConfigError, match="fewer than one window"):
        TrainBatches(list(range(10)), 16, 8, 4, 1, ctx(), seed=1)
    with pytest.raises(TrainingConfigError, match="fewer than one batch"):
        TrainBatches(list(range(40)), 16, 8, 4, 1, ctx(), seed=1)
    assert len(eval_batches(list(range(100)), 16, 2, 0, CPU)) == 3  # 5 windows, batches of 2


def test_records_split_by_line_and_encode_per_side() -> None:
    splits = make_splits([f"line {i}" for i in range(20)] + [{"text": "last"}], ByteTokenizer(), 0.1)
    assert splits.val_texts == ["line 19", "last"] and len(splits.train_texts) == 19
    assert ByteTokenizer().decode(splits.val) == "line 19\nlast"
    with pytest.raises(TrainingConfigError, match="at least two"):
        split_records(["only one"], 0.1)


# -------------------------------------------------------------------- step
def _grads(accum: int) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = BigramLM(64)
    trainer = FunctionalTrainer(TrainSettings(batch_size=8, grad_accum_steps=accum, grad_clip=0))
    trainer.model = model
    batches = TrainBatches([i % 64 for i in range(4000)], 16, 8, 8 // accum, accum, ctx(), 5)
    captured: list[torch.Tensor] = []

    class Spy(torch.optim.SGD):
        def step(self, closure: Any = None) -> Any:
            captured.extend(p.grad.clone() for p in model.parameters())
            return super().step(closure)

    opt = Spy(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    loss = train_step(trainer, model, batches, 0, opt, sched, trainer.settings,
                      lambda: torch.autocast("cpu", enabled=False))
    assert math.isfinite(float(loss))
    return captured


def test_gradient_accumulation_equals_the_big_batch() -> None:
    for a, b in zip(_grads(1), _grads(4)):
        assert torch.allclose(a, b, atol=1e-6)


def test_adamw_decays_matrices_only() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    opt, sched = make_optimizer(FunctionalTrainer(), model, TrainSettings(weight_decay=0.3))
    decayed, plain = opt.param_groups
    assert isinstance(opt, torch.optim.AdamW) and decayed["weight_decay"] == 0.3
    assert [p.dim() for p in decayed["params"]] == [2] and plain["weight_decay"] == 0.0
    assert sched.get_last_lr()[0] == pytest.approx(TrainSettings().learning_rate / 21)


# --------------------------------------------------------------- train(cfg)
def test_train_a_plugin_model_by_name_from_a_plain_dict(tmp_path: Path, bigram: Any) -> None:
    summary = train(tiny_cfg(tmp_path))
    run = Path(summary["run_dir"])
    assert run == tmp_path / "runs" / "unit"
    assert summary["final_eval"]["perplexity"] < summary["first_eval"]["perplexity"]
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-000006"
    assert {"config.yaml", "metrics.jsonl", "summary.json"} <= {p.name for p in run.iterdir()}


def test_bf16_autocast_trains(tmp_path: Path, bigram: Any) -> None:
    summary = train(tiny_cfg(tmp_path, precision="bf16"))
    assert math.isfinite(summary["final_eval"]["loss"])


def test_same_seed_same_numbers(tmp_path: Path, bigram: Any) -> None:
    a = train(tiny_cfg(tmp_path, run_name="a"))["final_eval"]
    b = train(tiny_cfg(tmp_path, run_name="b"))["final_eval"]
    c = train(tiny_cfg(tmp_path, run_name="c", seed=7))["final_eval"]
    assert a == b and a != c


class SmoothedTrainer(BaseTrainer):
    """A plugin-style class trainer: label-smoothed LM loss on the model it is given."""

    def training_step(self, batch: Any, batch_idx: int) -> dict[str, Any]:
        x, y = batch
        logits = self.model(x)
        return {"loss": torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), y.flatten(), label_smoothing=0.1)}

    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        return torch.nn.functional.cross_entropy(self.model(x).flatten(0, 1), y.flatten())


def test_a_base_trainer_subclass_is_driven_by_the_loop(tmp_path: Path, bigram: Any) -> None:
    with trainer_registry.snapshot():
        trainer_registry.register("test-smoothed", SmoothedTrainer)
        cfg = tiny_cfg(tmp_path, name="test-smoothed")
        summary = train(cfg)
    assert summary["trainer"] == "test-smoothed"
    assert summary["final_eval"]["loss"] < summary["first_eval"]["loss"]


def test_a_trainer_step_that_returns_no_tensor_is_explained(tmp_path: Path, bigram: Any) -> None:
    class FloatTrainer(SmoothedTrainer):
        def training_step(self, batch: Any, batch_idx: int) -> dict[str, float]:
            return {"loss": 1.0}

    with trainer_registry.snapshot():
        trainer_registry.register("test-float", FloatTrainer)
        with pytest.raises(TrainingConfigError,
                           match="each returns the loss tensor or a mapping with a .loss. tensor"):
            train(tiny_cfg(tmp_path, name="test-float"))


def test_unknown_component_names_suggest_the_close_one(tmp_path: Path) -> None:
    cfg = tiny_cfg(tmp_path)
    cfg["model"]["name"] = "decoder_onyl"
    with pytest.raises(KeyError, match="decoder_only"):
        train(cfg)


def test_arguments_a_model_rejects_name_the_config_section(tmp_path: Path) -> None:
    cfg = tiny_cfg(tmp_path)
    cfg["model"] = {"name": "decoder_only", "vocab_size": "tokenizer", "kwargs": {"n_layer": 2}}
    with pytest.raises(TrainingConfigError, match=r"model.kwargs.*n_layer"):
        train(cfg)


def test_generated_text_metrics_reward_and_rollout(tmp_path: Path, bigram: Any) -> None:
    cfg = tiny_cfg(tmp_path)
    cfg["metrics"] = {"f1": {"name": "f1", "inputs": "texts"},
                      "distinct_2": {"name": "dist-2", "inputs": "samples"}}
    cfg["reward_model"] = {"name": "offline:heuristic"}
    cfg["rl_agent"] = {"name": "offline:scripted"}
    summary = train(cfg)
    assert {"f1", "distinct_2"} <= set(summary["final_eval"])
    report = summary["evaluation"]
    assert report["reward_model"]["plugin"] == "offline:heuristic"
    assert report["rl_agent"]["episodes"] == 1 and report["samples"][0]["reference"]


def test_a_named_run_is_never_mixed_with_a_new_one(tmp_path: Path, bigram: Any) -> None:
    train(tiny_cfg(tmp_path))
    with pytest.raises(TrainingConfigError, match="already holds a run.*resume=true"):
        train(tiny_cfg(tmp_path))
    resumed = train(tiny_cfg(tmp_path, resume=True, max_steps=8))
    assert resumed["resumed_from"] == 6


def test_a_terminal_gets_a_progress_bar(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from codex_ml.training import progress

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    bar = progress.make_progress(True, total=10, initial=0)
    assert isinstance(bar, progress.Bar)
    bar.advance(3)
    bar.train_line(3, {"loss": 1.5, "tokens_per_sec": 1234.0})
    bar.close()
    assert isinstance(progress.make_progress(False, 10, 0), progress.Silent)


def test_importing_the_trainer_and_cli_loads_neither_torch_nor_hydra() -> None:
    import subprocess
    import sys

    code = ("import sys, codex_ml.training.functional, codex_ml.training.jobs, "
            "codex_ml.training.evaluate, codex_ml.cli.hydra_app, codex_ml.cli.__main__\n"
            "print(sorted(m for m in ('torch', 'hydra', 'omegaconf', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"



@pytest.mark.parametrize("frozen", [False, True], ids=["clock", "one-clock-tick"])
def test_evaluation_files_sort_in_the_order_they_were_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              frozen: bool) -> None:
    """Readers (the report) order evals/ by name: clashes within one clock tick keep that order."""
    import time

    from codex_ml.training import evalrun

    if frozen:
        monkeypatch.setattr(evalrun.time, "time", lambda: 1767268800.25)
    written = []
    for _ in range(12):
        path = evalrun.output_path(tmp_path, "unused", None)
        path.parent.mkdir(exist_ok=True)
        path.write_text("{}")
        written.append(path.name)
        time.sleep(0.0001)
    assert sorted(written) == written and len(set(written)) == 12


class FavoursTheLastId(BigramLM):
    """A model whose best next token is always its last id, one the byte tokenizer cannot decode."""

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        logits = super().forward(input_ids)
        return logits + torch.nn.functional.one_hot(torch.tensor(logits.shape[-1] - 1), logits.shape[-1]) * 100.0


def test_a_model_with_more_ids_than_the_tokenizer_warns_and_samples_only_ids_it_can_decode(tmp_path: Path) -> None:
    from codex_ml.training.errors import VocabularyWarning

    cfg = tiny_cfg(tmp_path, max_steps=1)
    cfg["model"] = {"name": "test-favours-last", "vocab_size": 300, "path": None, "kwargs": {}}
    with model_registry.snapshot():
        model_registry.register("test-favours-last", FavoursTheLastId)
        with pytest.warns(VocabularyWarning, match=r"model 'test-favours-last' has 300 token ids and tokenizer "
                          r"'offline:bytes' 259: the model's other 41 ids are never trained and never sampled"):
            summary = train(cfg)
    assert summary["evaluation"]["samples"]  # decoded: the sampler never picked id 299


def test_generate_picks_only_ids_the_tokenizer_can_decode() -> None:
    from codex_ml.training.generate import Sampling, generate

    model = FavoursTheLastId(vocab_size=300)
    texts = generate(model, ByteTokenizer(), ["ab", "c"], Sampling(max_new_tokens=5))  # id 299 would not decode
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


NO_MPS = pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has an Apple GPU")


@pytest.mark.parametrize(("section", "key", "value", "message"), [
    ("model", "vocab_size", 100, r"model 'test-bigram' has 100 token ids and tokenizer 'offline:bytes' 259: the "
                                 r"tokenizer's ids from 100 up would index past the model's embedding\. Fix: use the "
                                 r"model's own tokenizer"),
    pytest.param("training", "device", "mps", r"training\.device=mps but torch sees no Apple GPU \(MPS\) here\. "
                                              r"Use training\.device=cpu \(or auto\)\.", marks=NO_MPS),
])
def test_what_cannot_run_is_refused_before_the_run_folder(tmp_path: Path, bigram: Any, section: str, key: str,
                                                          value: Any, message: str) -> None:
    cfg = tiny_cfg(tmp_path)
    cfg[section][key] = value
    with pytest.raises(TrainingConfigError, match=message):
        train(cfg)
    assert not (tmp_path / "runs").exists()


def test_a_finished_run_with_fewer_model_ids_still_loads_with_a_warning(tmp_path: Path, bigram: Any) -> None:
    """Trained before the vocabulary check existed: evaluating it stays possible."""
    from codex_ml.training import components
    from codex_ml.training.errors import VocabularyWarning

    cfg = tiny_cfg(tmp_path)
    cfg["model"]["vocab_size"] = 256
    with pytest.warns(VocabularyWarning, match=r"has 256 token ids and tokenizer 'offline:bytes' 259: the "
                      r"tokenizer's ids from 256 up would index past the model's embedding; text that needs "
                      r"them cannot be scored\."):
        model, _ = components.build_model(cfg, ByteTokenizer(), new_run=False)
    assert model.vocab_size == 256
