"""Causal language-model arithmetic shared by training and evaluation (torch).

Models follow the Hugging Face convention: ``model(input_ids)`` returns logits
``[batch, time, vocab]``, or an output object with ``.logits``, or a tuple
whose first item is the logits.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.scoring import Evidence, token_text

MODEL_CONTRACT = ("The training loop calls model(input_ids) with token ids of shape [batch, time] "
                  "(torch.long) and expects logits [batch, time, vocab] back (a tensor, an object "
                  "with .logits, or a tuple whose first item is the logits); see "
                  "docs/guides/training.md.")


def call_model(model: torch.nn.Module, inputs: torch.Tensor) -> Any:
    """``model(inputs)``, with a model that does not take token ids explained by the contract."""
    try:
        return model(inputs)
    except (TypeError, IndexError) as exc:
        raise TrainingConfigError(
            f"model {type(model).__name__} does not fit the training loop: calling it on token "
            f"ids of shape {tuple(inputs.shape)} raised {type(exc).__name__}: {exc}. "
            f"{MODEL_CONTRACT}") from exc


def logits_of(output: Any) -> torch.Tensor:
    """The logits inside whatever a model's forward returned."""
    if isinstance(output, torch.Tensor):
        return output
    logits = getattr(output, "logits", None)
    if logits is None and isinstance(output, (tuple, list)) and output:
        logits = output[0]
    if not isinstance(logits, torch.Tensor):
        raise TrainingConfigError(
            f"the model returned {type(output).__name__}, not logits. {MODEL_CONTRACT}")
    return logits


def _check_shape(logits: torch.Tensor, targets: torch.Tensor) -> None:
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise TrainingConfigError(
            f"the model returned logits of shape {tuple(logits.shape)} for input "
            f"{tuple(targets.shape)}; expected [batch, time, vocab] = "
            f"[{targets.shape[0]}, {targets.shape[1]}, vocab_size]. {MODEL_CONTRACT}")


def causal_lm_loss(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Mean next-token cross-entropy of ``model`` on ``(inputs, targets)``."""
    inputs, targets = batch
    logits = logits_of(call_model(model, inputs))
    _check_shape(logits, targets)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))


@torch.no_grad()
def token_nll_and_predictions(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token negative log-likelihood (nats) and the argmax prediction, both [B, T]."""
    inputs, targets = batch
    logits = logits_of(call_model(model, inputs)).float()
    _check_shape(logits, targets)
    nll = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return nll, logits.argmax(dim=-1)


@torch.no_grad()
def generate(model: torch.nn.Module, ids: list[int], max_new_tokens: int, block_size: int,
             temperature: float = 0.0, generator: torch.Generator | None = None,
             vocab: int | None = None) -> list[int]:
    """Continue ``ids`` token by token (greedy at temperature 0), nanoGPT's ``generate``.

    ``vocab``: the tokenizer's number of ids; a model with more never picks the others.
    """
    device = next(model.parameters()).device
    seq = torch.tensor([ids], dtype=torch.long, device=device)
    for _ in range(max_new_tokens):
        logits = logits_of(model(seq[:, -block_size:]))[:, -1, :vocab].float()
        if temperature <= 0:
            nxt = logits.argmax(dim=-1, keepdim=True)
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)
        seq = torch.cat([seq, nxt], dim=1)
    return [int(t) for t in seq[0, len(ids):].tolist()]


TRAINER_CONTRACT = ("trainers implement training_step(batch, batch_idx) and "
                    "validation_step(batch, batch_idx), where batch is (input_ids, target_ids), "
                    "both [batch, time] token ids, and the loop has set trainer.model; each returns "
                    "the loss tensor or a mapping with a 'loss' tensor (docs/guides/training.md).")


def loss_value(output: Any) -> torch.Tensor:
    """The loss a training/validation step returned: a tensor, or a mapping with ``loss``."""
    if isinstance(output, torch.Tensor):
        return output
    loss = output.get("loss") if isinstance(output, Mapping) else None
    if isinstance(loss, torch.Tensor):
        return loss
    raise TrainingConfigError(
        f"a trainer step returned {type(output).__name__}; {TRAINER_CONTRACT}")


@torch.no_grad()
def collect_evidence(model: torch.nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]],
                     id_to_text: Callable[[int], str]) -> Evidence:
    """Per-token NLL and argmax predictions of a causal LM over ``batches``."""
    nll, preds, targets = [], [], []
    was_training = model.training
    model.eval()
    try:
        for batch in batches:
            token_nll, token_pred = token_nll_and_predictions(model, batch)
            nll.append(token_nll.flatten())
            preds.append(token_pred.flatten())
            targets.append(batch[1].flatten())
    finally:
        model.train(was_training)
    return Evidence(nll=torch.cat(nll).tolist(), predictions=torch.cat(preds).tolist(),
                    targets=torch.cat(targets).tolist(), id_to_text=id_to_text)


@torch.no_grad()
def step_evidence(trainer: Any, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> Evidence:
    """A class trainer's own ``validation_step`` losses, one per batch."""
    losses = [float(loss_value(trainer.validation_step(b, i))) for i, b in enumerate(batches)]
    return Evidence(nll=losses)


class TorchSampler:
    """Greedy text continuations from a causal LM, for samples, rewards and rollouts."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, block_size: int) -> None:
        from codex_ml.training.components import tokenizer_vocab

        self.model, self.tokenizer, self.block_size = model, tokenizer, block_size
        self.vocab = tokenizer_vocab(tokenizer)

    def __call__(self, prompt: str, max_new_tokens: int) -> str:
        ids = self.tokenizer.encode(prompt)
        was_training = self.model.training
        self.model.eval()
        try:
            new = generate(self.model, ids, max_new_tokens, self.block_size, vocab=self.vocab)
        finally:
            self.model.train(was_training)
        # One line per sample: stop at the first line break the model writes.
        return str(self.tokenizer.decode(new)).split("\n", 1)[0]


def evaluate_model(parts: Any, es: Any, folder: Path | None) -> tuple[dict[str, float], Any, str]:
    """Metrics of the model (with the weights of checkpoint ``folder`` when given)."""
    from codex_ml.training import checkpoint
    from codex_ml.training.distributed import pick_device
    from codex_ml.training.reporting import periodic_samples
    from codex_ml.training.scoring import score
    from codex_ml.training.token_windows import validation_batches

    s = parts.settings
    device = pick_device(s.device, 0)
    model = parts.model.to(device)
    source = "as built by the model factory (no run_dir given)"
    if folder is not None:
        checkpoint.load_weights(folder, model)
        source = str(folder)
    val = validation_batches(parts.splits.val, s.block_size, s.batch_size, es.max_batches, device)
    evidence = collect_evidence(model, val, token_text(parts.tokenizer))
    sampler = TorchSampler(model, parts.tokenizer, s.block_size)
    periodic_samples(parts, evidence, sampler, es)
    return score(parts.metrics, evidence), sampler, source
