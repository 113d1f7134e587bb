"""The training loop for PyTorch models: nanoGPT's ``train.py``, as plain steps.

Read :func:`train` top to bottom: join the process group, open the run
directory, move the model, build AdamW with a warmup + cosine schedule, load
the last checkpoint when resuming, then loop: evaluate every
``eval_interval`` steps, checkpoint every ``checkpoint_interval`` steps, and
take one optimizer step of ``grad_accum_steps`` micro-batches (bf16 autocast
optional, gradients clipped). Everything else is a small helper below it.

Step numbering: ``step`` counts finished optimizer steps. The evaluation and
checkpoint at ``step`` happen before the optimizer step that makes it
``step + 1``, so a run resumed from checkpoint ``k`` redoes exactly the
steps after ``k``, on the same batches, with the same RNG state.
"""
from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

import torch
from torch.nn.parallel import DistributedDataParallel

from codex_ml.loggers.hub import LoggerSet, open_loggers
from codex_ml.modeling.lora import parameter_counts
from codex_ml.training import checkpoint, distributed
from codex_ml.training.batches import TrainBatches
from codex_ml.training.distributed import DistContext
from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.functional import FunctionalTrainer
from codex_ml.training.lm import TorchSampler, collect_evidence, loss_value, step_evidence
from codex_ml.training.parts import Parts
from codex_ml.training.plot import plot_run
from codex_ml.training.progress import Progress, format_values, make_progress
from codex_ml.training.reporting import EvalSettings, eval_settings, final_report, periodic_samples
from codex_ml.training.rundir import Run
from codex_ml.training.scoring import score, token_text
from codex_ml.training.settings import TrainSettings
from codex_ml.training.summary import finish_run
from codex_ml.training.token_windows import StreamBatches, train_batches, validation_batches
from codex_ml.utils import interrupts


def train_parts(parts: Parts) -> dict[str, Any]:
    """Train the parts :func:`codex_ml.training.jobs.train` built (its run folder is locked)."""
    ctx = distributed.setup(parts.settings.device)
    try:
        summary = _train(parts, ctx)
        # Rank 0 may still be writing its report: tearing the group down under
        # it aborts gloo ("terminate called without an active exception").
        distributed.barrier(ctx)
        return summary
    finally:
        distributed.teardown(ctx)


def _train(parts: Parts, ctx: DistContext) -> dict[str, Any]:
    s, es = parts.settings, eval_settings(parts.cfg)
    micro_batch = s.micro_batch(ctx.world_size)
    run = open_run(parts, ctx)
    raw_model = parts.model.to(ctx.device)
    raw_model.train()  # Hugging Face factories hand models over in eval mode
    model = distributed.wrap_model(raw_model, ctx)
    trainer = parts.trainer
    trainer.model = model
    optimizer, scheduler = make_optimizer(trainer, raw_model, s)
    batches = train_batches(parts.splits.train, s.block_size, data_stride(parts.cfg, s),
                           micro_batch, s.grad_accum_steps, ctx, s.seed)
    val = validation_batches(parts.splits.val, s.block_size, s.batch_size, s.eval_batches, ctx.device)
    start = resume(run, raw_model, optimizer, scheduler) if run.resumed else 0
    progress = make_progress(ctx.is_main, s.max_steps, start)
    progress.note(f"run directory: {run.path}" + (f" (resumed at step {start})" if start else ""))
    sink = open_loggers(parts.cfg, run.path, start, progress.note, ctx.is_main)  # loggers=[...]
    autocast = (functools.partial(torch.autocast, device_type=ctx.device.type,
                                  dtype=torch.bfloat16) if s.precision == "bf16"
                else contextlib.nullcontext)
    evaluate = functools.partial(evaluate_now, parts, trainer, raw_model, val, es, autocast)
    step, meter, history = start, Meter(), []
    try:
        while True:
            interrupts.check()  # a Ctrl-C that an import swallowed still stops the run here
            fresh = step > start or start == 0
            if ctx.is_main and fresh and (step % s.eval_interval == 0 or step == s.max_steps):
                history.append(log_eval(sink, progress, step, evaluate()))
            if ctx.is_main and step > start and is_checkpoint_step(step, s):
                folder = save(run, step, raw_model, optimizer, scheduler, s)
                progress.note(f"checkpoint step {step}: {folder}")
            if step >= s.max_steps:
                break
            with meter:
                loss = train_step(trainer, model, batches, step, optimizer, scheduler, s, autocast)
            step += 1
            progress.advance(step)
            if step % s.log_interval == 0 or step == s.max_steps:
                log_train(sink, progress, step, loss, optimizer, meter, s, ctx)
    finally:
        progress.close()  # also on Ctrl-C: give the terminal back
    summary = finish(parts, run, raw_model, history, meter, es, ctx, start)
    sink.finish(summary)  # samples to the loggers, then close them
    if ctx.is_main and s.plot:
        plot_run(run.path, progress.note)  # <run>/loss.png (docs/guides/after_training.md)
    return summary


# ------------------------------------------------------------------ setup
def open_run(parts: Parts, ctx: DistContext) -> Run:
    """Rank 0 planned the folder (a timestamp may differ per rank) and tells the others."""
    plan = parts.plan
    choice = (plan.path, plan.resumed) if ctx.is_main and plan is not None else None
    path, resumed = distributed.broadcast(choice, ctx)
    run = Run(path, writer=ctx.is_main, resumed=resumed)
    run.start(parts.cfg, restart=bool(plan and plan.restart))
    return run


def data_stride(cfg: dict[str, Any], s: TrainSettings) -> int:
    """Window stride in tokens (``dataset_loader.stride``, default half a block)."""
    stride = (cfg.get("dataset_loader") or {}).get("stride")
    if stride is None:
        return max(s.block_size // 2, 1)
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise TrainingConfigError(f"dataset_loader.stride must be an integer >= 1, found {stride!r}.")
    return stride


def lr_factor(step: int, warmup: int, total: int, floor: float) -> float:
    """Linear warmup to 1, then cosine decay to ``floor`` (min_lr / lr) at ``total``."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_optimizer(trainer: Any, model: torch.nn.Module, s: TrainSettings
                   ) -> tuple[torch.optim.Optimizer, Any]:
    """The trainer's own ``configure_optimizers()`` if it has one, else AdamW + warmup/cosine."""
    configure = getattr(trainer, "configure_optimizers", None)
    if callable(configure):
        made = configure()
        optimizer, scheduler = made if isinstance(made, tuple) else (made, None)
        return optimizer, scheduler or torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    params = [p for p in model.parameters() if p.requires_grad]
    # nanoGPT: weight decay on matrices only, never on biases, norms or gains.
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": s.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    optimizer = adamw(groups, s)
    schedule = functools.partial(lr_factor, warmup=s.warmup_steps, total=s.max_steps,
                                 floor=s.min_learning_rate / s.learning_rate)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)


def adamw(groups: list[dict[str, Any]], s: TrainSettings) -> torch.optim.AdamW:
    """AdamW, fused where torch has the kernel: one kernel for all parameters instead of
    a dozen per parameter (4x faster optimizer steps on CPU, as on CUDA)."""
    params = [p for g in groups for p in g["params"]]
    fusable = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    betas = (s.beta1, s.beta2)
    if fusable:
        try:
            return torch.optim.AdamW(groups, lr=s.learning_rate, betas=betas, fused=True)
        except (RuntimeError, TypeError):  # an older torch without the fused kernel here
            pass
    return torch.optim.AdamW(groups, lr=s.learning_rate, betas=betas)


def resume(run: Run, model: torch.nn.Module, optimizer: Any, scheduler: Any) -> int:
    """Load the latest checkpoint's weights, optimizer, scheduler and RNG; return its step."""
    folder = checkpoint.latest_checkpoint(run.checkpoints)
    if folder is None:  # choose_run_dir resumes only where `latest` exists; it was removed since
        return 0
    checkpoint.load_weights(folder, model)
    state = checkpoint.load_state(folder)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    checkpoint.restore_rng(state["rng"])
    step = int(state["step"])
    if run.writer:  # later checkpoints stay: they are overwritten when the run gets there
        run.trim_metrics(step)
    return step


# ------------------------------------------------------------------- step
def train_step(trainer: Any, model: torch.nn.Module, batches: TrainBatches | StreamBatches,
               step: int, optimizer: Any, scheduler: Any, s: TrainSettings,
               autocast: Callable[[], Any]) -> torch.Tensor:
    """One optimizer step over ``grad_accum_steps`` micro-batches; returns the mean loss."""
    accum = s.grad_accum_steps
    losses = []
    for micro in range(accum):
        batch = batches.get(step, micro)
        with no_sync(model, last=micro == accum - 1), autocast():
            loss = loss_value(trainer.training_step(batch, step * accum + micro))
        if accum > 1:  # gradients of the mean over all micro-batches
            loss = loss / accum
        loss.backward()  # type: ignore[no-untyped-call]
        losses.append(loss.detach())
    total = losses[0] if accum == 1 else torch.stack(losses).sum()
    if s.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), s.grad_clip)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return total


def no_sync(model: torch.nn.Module, last: bool) -> Any:
    """DDP all-reduces gradients only on the last micro-step of an accumulation."""
    if last or not isinstance(model, DistributedDataParallel):
        return contextlib.nullcontext()
    return model.no_sync()


def is_checkpoint_step(step: int, s: TrainSettings) -> bool:
    periodic = s.checkpoint_interval > 0 and step % s.checkpoint_interval == 0
    return periodic or step == s.max_steps


def save(run: Run, step: int, model: torch.nn.Module, optimizer: Any, scheduler: Any,
         s: TrainSettings) -> Path:
    state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "rng": checkpoint.capture_rng()}
    return checkpoint.save_torch(run.checkpoints, step, model, state, s.keep_checkpoints)


# ----------------------------------------------------------------- logging
class Meter:
    """Wall time spent in optimizer steps only (evaluation and checkpoints excluded)."""

    def __init__(self) -> None:
        self.seconds, self.steps = 0.0, 0
        self._mark_seconds, self._mark_steps = 0.0, 0

    def __enter__(self) -> Self:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._t0
        self.steps += 1

    def window(self) -> tuple[float, int]:
        """Seconds and steps since the last call."""
        seconds, steps = self.seconds - self._mark_seconds, self.steps - self._mark_steps
        self._mark_seconds, self._mark_steps = self.seconds, self.steps
        return seconds, steps


def global_mean(value: torch.Tensor, ctx: DistContext) -> float:
    """The loss averaged over ranks: with equal shards, the global batch's mean loss."""
    if ctx.enabled:
        value = value.detach().clone()
        torch.distributed.all_reduce(value)  # gloo has no AVG: sum, then divide
        value /= ctx.world_size
    return float(value)


def log_train(run: LoggerSet, progress: Progress, step: int, loss: torch.Tensor, optimizer: Any,
              meter: Meter, s: TrainSettings, ctx: DistContext) -> None:
    mean_loss = global_mean(loss, ctx)  # every rank joins the all-reduce
    seconds, steps = meter.window()
    values = {"loss": mean_loss, "lr": float(optimizer.param_groups[0]["lr"]),
              "tokens_per_sec": s.tokens_per_step * steps / seconds if seconds else math.nan}
    run.log({"step": step, "split": "train", **values})
    progress.train_line(step, values)


def evaluate_now(parts: Parts, trainer: Any, model: torch.nn.Module, val: list[Any],
                 es: EvalSettings, autocast: Callable[[], Any]) -> dict[str, float]:
    """Validation loss, perplexity and the configured metrics, on the unwrapped model."""
    with autocast():
        if isinstance(trainer, FunctionalTrainer):
            evidence = collect_evidence(model, val, token_text(parts.tokenizer))
        else:
            with _swap(trainer, model):  # rank 0 evaluates alone: no DDP collectives
                evidence = step_evidence(trainer, val)
        periodic_samples(parts, evidence, TorchSampler(model, parts.tokenizer,
                                                       parts.settings.block_size), es)
    return score(parts.metrics, evidence)


@contextlib.contextmanager
def _swap(trainer: Any, model: torch.nn.Module) -> Iterator[Any]:
    wrapped, trainer.model = trainer.model, model
    try:
        yield trainer
    finally:
        trainer.model = wrapped


def log_eval(run: LoggerSet, progress: Progress, step: int, values: dict[str, float]) -> dict[str, Any]:
    record = {"step": step, "split": "val", **values}
    run.log(record)
    progress.note(f"eval step {step} | {format_values(values)}")
    return record


def finish(parts: Parts, run: Run, model: torch.nn.Module, history: list[dict[str, Any]],
           meter: Meter, es: EvalSettings, ctx: DistContext, start: int) -> dict[str, Any]:
    """Final report (samples, reward, rollout), summary.json and the table (rank 0)."""
    if not ctx.is_main:
        return {"run_dir": str(run.path), "rank": ctx.rank}
    sampler = TorchSampler(model, parts.tokenizer, parts.settings.block_size)
    report = final_report(parts, history[-1] if history else {}, sampler, es)
    tokens = parts.settings.tokens_per_step * meter.steps
    tokens_per_sec = tokens / meter.seconds if meter.seconds else math.nan
    return finish_run(parts, run, history, report, {
        "world_size": ctx.world_size, "device": str(ctx.device), "resumed_from": start,
        "tokens_per_sec": tokens_per_sec, "train_seconds": meter.seconds,
        "parameters": parameter_counts(model)})
