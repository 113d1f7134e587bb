"""Training and evaluating a model that is not PyTorch: the tiny sequence model.

``offline/tiny_fixtures`` pairs the six-token vocabulary with an n-gram model
described by ``model.json``. The functional trainer fits it deterministically
by counting the training lines; evaluation uses its ``token_nlls`` (for
perplexity), ``predict`` (for token metrics) and ``generate`` (for samples).
No torch is imported anywhere on this path.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from codex_ml.loggers.hub import LoggerSet, open_loggers
from codex_ml.training import checkpoint
from codex_ml.training.errors import CheckpointError, TrainingConfigError
from codex_ml.training.progress import format_values
from codex_ml.training.reporting import EvalSettings, eval_settings, final_report, periodic_samples
from codex_ml.training.rundir import Run
from codex_ml.training.scoring import Evidence, score, token_text
from codex_ml.training.summary import finish_run


def _require(model: Any, *methods: str) -> None:
    missing = [m for m in methods if not callable(getattr(model, m, None))]
    if missing:
        raise TrainingConfigError(
            f"model {type(model).__name__} is not a torch.nn.Module, and a non-torch model needs "
            f"{', '.join(m + '()' for m in missing)} to be trained and evaluated here. Pick a "
            "PyTorch model (model.name=decoder_only) or the tiny sequence model.")


def tiny_evidence(model: Any, tokenizer: Any, texts: list[str]) -> Evidence:
    """Per-token NLL and greedy next-token predictions over the held-out lines."""
    _require(model, "token_nlls", "predict")
    evidence = Evidence(id_to_text=token_text(tokenizer))
    for text in texts:
        ids = [int(i) for i in tokenizer.encode(text)]
        evidence.nll.extend(model.token_nlls(ids, add_eos=False))
        evidence.predictions.extend(model.predict(ids[:pos]) for pos in range(len(ids)))
        evidence.targets.extend(ids)
    return evidence


def sampler_for(model: Any) -> Any:
    _require(model, "generate")
    return lambda prompt, n: str(model.generate(prompt, max_new_tokens=n))


def measure(parts: Any, model: Any, es: EvalSettings) -> dict[str, float]:
    evidence = tiny_evidence(model, parts.tokenizer, parts.splits.val_texts)
    periodic_samples(parts, evidence, sampler_for(model), es)
    return score(parts.metrics, evidence)


def _dump(state: dict[str, Any]) -> str:
    return json.dumps(state, indent=2) + "\n"


def train_tiny(parts: Any) -> dict[str, Any]:
    """Evaluate, fit by counting, evaluate again, checkpoint ``model.json``, report."""
    s, es = parts.settings, eval_settings(parts.cfg)
    if parts.plan is None:
        raise TrainingConfigError("the tiny sequence model trains in one process; run it without "
                                  "torchrun.")
    if parts.plan.resumed:
        raise TrainingConfigError(f"{parts.plan.path}: the tiny sequence model is fitted in one "
                                  "step and cannot be resumed; start a new run instead.")
    run = Run(parts.plan.path)
    run.start(parts.cfg)
    print(f"run directory: {run.path}", flush=True)
    sink = open_loggers(parts.cfg, run.path, 0, lambda text: print(text, flush=True))  # loggers=[...]
    history = [_log(sink, 0, measure(parts, parts.model, es))]
    started = time.perf_counter()
    sequences = [parts.tokenizer.encode(t) for t in parts.splits.train_texts]
    model = parts.trainer.fit_counts(parts.model, sequences)
    seconds = time.perf_counter() - started
    sink.log({"step": 1, "split": "train", "sequences": len(sequences), "seconds": seconds})
    history.append(_log(sink, 1, measure(parts, model, es)))
    _require(model, "state_dict")
    checkpoint.save_json_model(run.checkpoints, 1, model.state_dict(), s.keep_checkpoints, _dump)
    report = final_report(parts, history[-1], sampler_for(model), es)
    summary = finish_run(parts, run, history, report, {"steps": 1, "train_seconds": seconds,
                                                       "world_size": 1, "device": "cpu (pure Python)"})
    sink.finish(summary)  # samples to the loggers, then close them
    return summary


def _log(sink: LoggerSet, step: int, values: dict[str, float]) -> dict[str, Any]:
    record = {"step": step, "split": "val", **values}
    sink.log(record)
    print(f"eval step {step} | {format_values(values)}", flush=True)
    return record


def evaluate_model(parts: Any, es: EvalSettings, folder: Path | None) -> tuple[dict[str, float], Any, str]:
    """Metrics of the tiny model (with the fitted counts of checkpoint ``folder`` when given)."""
    model, source = parts.model, "as built by the model factory (no run_dir given)"
    if folder is not None:
        model = _load(model, folder / checkpoint.JSON_MODEL)
        source = str(folder)
    return measure(parts, model, es), sampler_for(model), source


def _load(model: Any, file: Path) -> Any:
    from_state = getattr(type(model), "from_state", None)
    if from_state is None:
        raise CheckpointError(f"{type(model).__name__} has no from_state(); cannot load {file}.")
    return from_state(json.loads(file.read_text(encoding="utf-8")), source=str(file))
