"""Training throughput: our trainer vs. a hand-written PyTorch loop vs. the Hugging Face Trainer.

Same model (the default config's ``decoder_only``), same data (byte-level
windows of the tiny corpus), same global batch, same optimizer (AdamW with
nanoGPT's decay groups, warmup + cosine, clipping at 1.0). Each contender runs
``--warmup`` steps, then ``--steps`` timed steps in windows of ``--warmup``
steps; the contenders take turns for ``--rounds`` rounds. The table shows the
best window (as ``timeit`` reports its best run: other processes on a shared
machine only ever slow a window down) and the median window, in tokens/s::

    python benchmarks/train_throughput.py                 # CPU
    python benchmarks/train_throughput.py --device cuda   # GPU, when there is one

"ours" is ``codex_ml.training.jobs.train(cfg)``, timed by its own step meter
(the optimizer steps only: evaluation, checkpoints and start-up are excluded,
as they are for the other two).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch
import torch.nn.functional as F

from codex_ml.registry import data_loader_registry, model_registry, tokenizer_registry
from codex_ml.training.batches import windows
from codex_ml.training.data import make_splits
from codex_ml.training.loop import lr_factor

MODEL = {"d_model": 128, "n_layers": 2, "n_heads": 4, "dropout": 0.0}
LR, MIN_LR, WARMUP_LR_STEPS = 2e-3, 2e-4, 20


def corpus_windows(block: int) -> torch.Tensor:
    tok = tokenizer_registry.create("offline:bytes")
    splits = make_splits(data_loader_registry.create("offline:tiny-corpus"), tok, 0.1)
    return windows(splits.train, block, block // 2)


def build_model(block: int, device: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return model_registry.create("decoder_only", vocab_size=259, max_seq_len=block, **MODEL).to(device)


def adamw(model: torch.nn.Module) -> torch.optim.AdamW:
    """The optimizer all three use: AdamW, fused kernel (the HF Trainer's default too)."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                             lr=LR, betas=(0.9, 0.99), fused=True)


# ------------------------------------------------------------------ contenders
def ours(args: argparse.Namespace, total: int) -> list[float]:
    """Seconds per step of each timed window of ``jobs.train``, from its metrics.jsonl."""
    from codex_ml.training.jobs import train

    with tempfile.TemporaryDirectory() as tmp:
        cfg = {
            "model": {"name": "decoder_only", "vocab_size": "tokenizer",
                      "kwargs": {**MODEL, "max_seq_len": args.block}},
            "tokenizer": {"name": "offline:bytes"},
            "dataset_loader": {"name": "offline:tiny-corpus", "val_fraction": 0.1},
            "training": {"name": "offline:functional", "max_steps": total,
                         "batch_size": args.batch, "block_size": args.block,
                         "learning_rate": LR, "min_learning_rate": MIN_LR,
                         "warmup_steps": WARMUP_LR_STEPS, "eval_interval": total,
                         "eval_batches": 1, "log_interval": args.warmup, "checkpoint_interval": 0,
                         "device": args.device, "output_dir": tmp, "run_name": "bench"},
            "metrics": {}, "evaluate": {"num_samples": 0},
        }
        with open(os.devnull, "w") as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            try:
                train(cfg)
            finally:
                sys.stdout = stdout
        rows = [json.loads(line) for line in Path(tmp, "bench", "metrics.jsonl").read_text().splitlines()]
    timed = [r for r in rows if r["split"] == "train"][1:]  # the first window is the warm-up
    return [args.batch * args.block / r["tokens_per_sec"] for r in timed]


def hand_written(args: argparse.Namespace, total: int) -> list[float]:
    """nanoGPT-style: random windows, forward, loss, backward, clip, step."""
    data = corpus_windows(args.block)
    model = build_model(args.block, args.device)
    opt = adamw(model)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, WARMUP_LR_STEPS, total, MIN_LR / LR))
    gen = torch.Generator().manual_seed(0)
    marks: list[float] = []
    for step in range(total):
        if step % args.warmup == 0:
            _sync(args.device)
            marks.append(time.perf_counter())
        batch = data[torch.randint(len(data), (args.batch,), generator=gen)].to(args.device)
        x, y = batch[:, :-1], batch[:, 1:]
        logits = model(x).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    _sync(args.device)
    marks.append(time.perf_counter())
    return _windows(marks[1:], args.warmup)  # the first window is the warm-up


class _LossWrapper(torch.nn.Module):
    """What the HF Trainer expects: forward(input_ids, labels) -> {"loss": ...}."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.model(input_ids).logits
        return {"loss": F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1))}


def hf_trainer(args: argparse.Namespace, total: int) -> list[float]:
    """transformers.Trainer on the same model and windows, timed by a step callback."""
    from transformers import Trainer, TrainerCallback, TrainingArguments

    data = corpus_windows(args.block)
    items = [{"input_ids": w[:-1], "labels": w[1:]} for w in data]
    marks: list[float] = []

    class Clock(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, a: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step % args.warmup == 0 and state.global_step >= args.warmup:
                _sync(args.device)
                marks.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(
            output_dir=tmp, per_device_train_batch_size=args.batch, max_steps=total,
            learning_rate=LR, weight_decay=0.1, adam_beta2=0.99, max_grad_norm=1.0,
            lr_scheduler_type="cosine", warmup_steps=WARMUP_LR_STEPS, logging_strategy="no",
            save_strategy="no", report_to=[], disable_tqdm=True, dataloader_num_workers=0,
            optim="adamw_torch_fused", use_cpu=args.device == "cpu", seed=0)
        Trainer(model=_LossWrapper(build_model(args.block, args.device)), args=targs,
                train_dataset=items, callbacks=[Clock()]).train()
    return _windows(marks, args.warmup)


def _windows(marks: list[float], steps: int) -> list[float]:
    """Seconds per step of each window between consecutive time marks."""
    return [(b - a) / steps for a, b in itertools.pairwise(marks)]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


CONTENDERS: dict[str, Callable[[argparse.Namespace, int], list[float]]] = {
    "codex_ml trainer": ours, "hand-written loop": hand_written, "HF Trainer": hf_trainer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--block", type=int, default=64)
    args = parser.parse_args()
    if args.steps % args.warmup:
        parser.error("--steps must be a multiple of --warmup (our trainer logs every --warmup steps)")
    total = args.warmup + args.steps
    windows_of: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for _ in range(args.rounds):
        for name, run in CONTENDERS.items():
            windows_of[name] += run(args, total)
    tokens = args.batch * args.block
    best = {name: tokens / min(w) for name, w in windows_of.items()}
    median = {name: tokens / statistics.median(w) for name, w in windows_of.items()}
    print(f"device={args.device} threads={torch.get_num_threads()} batch={args.batch}x{args.block} "
          f"model=decoder_only {MODEL} torch {torch.__version__}; {args.rounds} rounds x "
          f"{args.steps // args.warmup} windows of {args.warmup} steps each")
    print(f"| {'contender':<18} | {'best tokens/s':>13} | {'vs hand-written':>15} "
          f"| {'median tokens/s':>15} | {'vs hand-written':>15} |")
    print(f"|{'-' * 20}|{'-' * 15}|{'-' * 17}|{'-' * 17}|{'-' * 17}|")
    for name in CONTENDERS:
        print(f"| {name:<18} | {best[name]:>13,.0f} | "
              f"{best[name] / best['hand-written loop']:>14.2f}x | {median[name]:>15,.0f} | "
              f"{median[name] / median['hand-written loop']:>14.2f}x |")


if __name__ == "__main__":
    main()
