"""Each component gets its own arguments, and a part that does not fit the loop is told
the contract (docs/guides/training.md)."""
from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from codex_ml.training.components import claim_kwargs, own_kwargs
from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.lm import causal_lm_loss, loss_value

DECODER = {"name": "decoder_only", "kwargs_for": "decoder_only", "vocab_size": "tokenizer",
           "kwargs": {"d_model": 128, "n_layers": 2}}


def cfg_with(**model: Any) -> dict[str, Any]:
    return {"model": {**DECODER, **model}, "tokenizer": {"name": "offline:bytes", "kwargs": {}}}


# (command line, model.kwargs as Hydra composed it, what the model gets)
@pytest.mark.parametrize(("overrides", "composed", "expected"), [
    (["model.name=my-lm"], {"d_model": 128, "n_layers": 2}, {}),
    (["model.name=my-lm", "model.kwargs.width=8"], {"d_model": 128, "n_layers": 2, "width": 8},
     {"width": 8}),
    (["model.name=my-lm", "model.kwargs={}"], {}, {}),
    (["model.kwargs.d_model=64"], {"d_model": 64, "n_layers": 2}, {"d_model": 64, "n_layers": 2}),
])
def test_switching_the_name_never_hands_over_another_components_kwargs(
        overrides: list[str], composed: dict[str, Any], expected: dict[str, Any]) -> None:
    name = next((o.split("=")[1] for o in overrides if o.startswith("model.name=")), "decoder_only")
    cfg = claim_kwargs(cfg_with(name=name, kwargs=composed), overrides)
    assert own_kwargs(cfg["model"], name) == expected


def test_kwargs_written_for_another_name_are_not_passed() -> None:
    assert own_kwargs({**DECODER, "name": "minilm"}, "minilm") == {}
    assert own_kwargs({"name": "mine", "kwargs": {"a": 1}}, "mine") == {"a": 1}  # untagged: kept


class TakesTwo(torch.nn.Module):
    def forward(self, input_ids: Any, attention_mask: Any) -> Any:
        return input_ids


class Pooled(torch.nn.Module):
    def forward(self, input_ids: Any) -> Any:
        return torch.zeros(input_ids.shape[0], 7)


BATCH = (torch.zeros(2, 5, dtype=torch.long), torch.zeros(2, 5, dtype=torch.long))


@pytest.mark.parametrize(("model", "message"), [
    (TakesTwo(), (r"TakesTwo does not fit the training loop: calling it on token ids of shape "
                  r"\(2, 5\) raised TypeError.*calls model\(input_ids\) with token ids of shape "
                  r"\[batch, time\]")),
    (Pooled(), r"logits of shape \(2, 7\) for input \(2, 5\).*expects logits \[batch, time, vocab\]"),
])
def test_a_model_that_does_not_fit_is_told_the_contract(model: Any, message: str) -> None:
    with pytest.raises(TrainingConfigError, match=message):
        causal_lm_loss(model, BATCH)


def test_a_trainer_step_that_returns_no_loss_is_told_the_contract() -> None:
    with pytest.raises(TrainingConfigError, match=r"returned float; trainers implement "
                                                  r"training_step\(batch, batch_idx\)"):
        loss_value(0.5)


# ------------------------------------------------------------ small messages
@pytest.mark.parametrize(("argv", "expected"), [
    (["training=offline/functional", "training.batch_size=0"],
     "training.batch_size must be an integer >= 1. Fix the value"),
    (["data=lines"], ("dataset_loader.path is not set: data=lines reads a text file, one record per "
                     "line. Set it on the command line: dataset_loader.path=<path or value>.")),
    (["training.output_dir=a-file"], "cannot create the folder a-file/"),
])
def test_small_messages_say_it_once_and_name_the_key(
        argv: list[str], expected: str, capsys: pytest.CaptureFixture[str], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.cli import hydra_app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    assert hydra_app.run("train", argv) == 1
    err = capsys.readouterr().err
    assert expected in err and err.count("Fix") <= 1 and "[Errno" not in err, err


@pytest.mark.parametrize(("split", "advice"), [("training", "a smaller dataset_loader.val_fraction"),
                                               ("validation", "a larger dataset_loader.val_fraction")])
def test_a_too_small_split_is_advised_in_the_right_direction(split: str, advice: str) -> None:
    from codex_ml.training.data import require_tokens

    with pytest.raises(TrainingConfigError, match=advice):
        require_tokens([1, 2], 65, split)
