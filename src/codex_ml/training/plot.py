"""Loss curves as PNG files, drawn with matplotlib (optional extra ``codex-ml[plot]``).

* :func:`plot_run`: at the end of training, ``<run>/loss.png``: train and
  validation loss against step on the left, validation perplexity (log
  scale) on the right.
* :func:`compare_runs`: ``codex-ml plot R1 R2 --out cmp.png --metric
  val_loss`` overlays one metric of several runs, each labelled by its run
  folder's name. ``--metric`` is ``SPLIT_NAME`` (``train_loss``,
  ``val_perplexity``, ``val_token_accuracy`` ...) or a bare name, read as
  ``val_NAME``.

Everything comes from ``metrics.jsonl``. Figures are drawn by matplotlib's
Agg canvas directly, without ``pyplot`` (a second to import, and a display
it could try to open).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codex_ml.training.errors import TrainingConfigError

PNG = "loss.png"
MISSING = ("matplotlib is not installed, so no loss.png was drawn; pip install "
           "'codex-ml[plot]' to get one (the numbers are in metrics.jsonl).")


def _figure(layout: Any = "constrained", **options: Any) -> Any:
    """A figure with its own Agg canvas (``ImportError`` without matplotlib)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(layout=layout, **options)
    FigureCanvasAgg(fig)
    return fig


def series(run_dir: Path, split: str, key: str) -> tuple[list[int], list[float]]:
    """``(steps, values)`` of ``key`` in ``split`` records, finite values only."""
    from codex_ml.training.rundir import read_metrics

    points = {}
    for record in read_metrics(run_dir):
        value = record.get(key)
        if record.get("split") == split and isinstance(value, (int, float)) and math.isfinite(value):
            points[int(record["step"])] = float(value)  # a resumed run logs a step again: keep last
    steps = sorted(points)
    return steps, [points[s] for s in steps]


def _draw_run(fig: Any, run_dir: Path, out: Path) -> None:
    from matplotlib import ticker

    # Fixed margins: the two panels' labels are known, and a layout engine would measure
    # every text twice, doubling what drawing costs at the end of every run.
    fig.subplots_adjust(left=0.065, right=0.985, bottom=0.12, top=0.84, wspace=0.22)
    left, right = fig.subplots(1, 2)
    for split, style in (("train", "-"), ("val", "o-")):
        steps, values = series(run_dir, split, "loss")
        if steps:
            left.plot(steps, values, style, label=f"{split} loss", markersize=3)
    left.set(xlabel="step", ylabel="loss (nats / token)", title="Loss")
    steps, values = series(run_dir, "val", "perplexity")
    if steps:
        right.plot(steps, values, "o-", color="tab:green", label="val perplexity", markersize=3)
    wide = bool(steps) and max(values) > 10 * min(values)
    if wide:  # perplexity falls by orders of magnitude early on
        right.set_yscale("log")
        right.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        right.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))  # 50, not 5x10^1
        right.yaxis.set_minor_formatter(ticker.NullFormatter())
    right.set(xlabel="step", ylabel="perplexity" + (" (log scale)" if wide else ""),
              title="Validation perplexity")
    for axis in (left, right):
        axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # steps are whole numbers
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend()
    fig.suptitle(f"run {run_dir.name}")
    fig.savefig(out, dpi=110)


def plot_run(run_dir: Path, note: Callable[[str], None] = print) -> Path | None:
    """Draw ``<run>/loss.png``; without matplotlib, say so in one line and return None."""
    try:
        fig = _figure(layout=None, figsize=(11, 4.2))
    except ImportError:
        note(MISSING)
        return None
    out = run_dir / PNG
    _draw_run(fig, run_dir, out)
    note(f"loss curves: {out}")
    return out


def metric_key(metric: str) -> tuple[str, str]:
    split, _, key = metric.partition("_")
    return (split, key) if split in ("train", "val") and key else ("val", metric)


def compare_runs(runs: list[Path], out: Path, metric: str = "val_loss") -> Path:
    """Overlay ``metric`` of ``runs`` in one PNG at ``out``."""
    split, key = metric_key(metric)
    curves = []
    for run in runs:
        if not (run / "metrics.jsonl").is_file():
            raise TrainingConfigError(f"{run} has no metrics.jsonl: pass run folders that "
                                      "`codex-ml train` wrote (logged with the jsonl logger).")
        steps, values = series(run, split, key)
        if not steps:
            raise TrainingConfigError(f"{run}/metrics.jsonl has no {split} {key!r} values; try "
                                      "--metric val_loss, train_loss or val_perplexity.")
        curves.append((run.name, steps, values))
    try:
        fig = _figure(figsize=(8, 4.8))
    except ImportError:
        raise ImportError("codex-ml plot needs matplotlib: pip install 'codex-ml[plot]'") from None
    axis = fig.subplots()
    for name, steps, values in curves:
        axis.plot(steps, values, "o-" if split == "val" else "-", label=name, markersize=3)
    axis.set(xlabel="step", ylabel=f"{split} {key}", title=f"{split} {key} by run")
    axis.grid(alpha=0.3)
    axis.legend(title="run")
    save_figure(fig, out, "--out")
    return out


def save_figure(fig: Any, out: Path, option: str) -> None:
    """The figure in the format its suffix names, written like every output file (codex_ml.utils.outputs)."""
    import io

    from codex_ml.registry._errors import UnsafeFileError
    from codex_ml.utils.outputs import write_output

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=110, format=out.suffix.lstrip(".").lower() or "png")
    try:
        write_output(out, buffer.getvalue(), option)
    except UnsafeFileError:
        raise  # a folder another account could change: the refusal says why
    except OSError as exc:
        raise TrainingConfigError(f"cannot write the picture {out}: {exc.strerror or exc}. Fix: pass {option} "
                                  "a path in a folder you can write.") from None
