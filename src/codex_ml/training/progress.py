"""What a run prints: a live bar on a terminal, plain lines in logs, a final table.

On a TTY a rich progress bar shows the step, loss and tokens/s; elsewhere (CI,
``| tee``, torchrun workers' captured output) each log step is one plain
line, which greps and diffs well. Ranks other than 0 print nothing.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any, Protocol


class Progress(Protocol):
    def advance(self, step: int) -> None: ...
    def train_line(self, step: int, values: Mapping[str, float]) -> None: ...
    def note(self, text: str) -> None: ...
    def close(self) -> None: ...


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if value and abs(value) < 1e-3:
            return f"{value:.3e}"
        return f"{value:.4f}"
    return str(value)


def format_values(values: Mapping[str, Any]) -> str:
    return " | ".join(f"{k} {_fmt(v)}" for k, v in values.items())


class Silent:
    """For ranks other than 0."""

    def advance(self, step: int) -> None:
        pass

    def train_line(self, step: int, values: Mapping[str, float]) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class Plain:
    """One line per log step, flushed at once so a tail -f of the log keeps up."""

    def __init__(self, total: int) -> None:
        self.total = total

    def advance(self, step: int) -> None:
        pass

    def train_line(self, step: int, values: Mapping[str, float]) -> None:
        self.note(f"step {step}/{self.total} | {format_values(values)}")

    def note(self, text: str) -> None:
        print(text, flush=True)

    def close(self) -> None:
        pass


class Bar:
    """A rich progress bar with loss and throughput; notes print above it."""

    def __init__(self, total: int, initial: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[speed]} tok/s"),
            TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
        self._task = self._progress.add_task("train", total=total, completed=initial,
                                             loss="-", speed="-")
        self._progress.start()

    def advance(self, step: int) -> None:
        self._progress.update(self._task, completed=step)

    def train_line(self, step: int, values: Mapping[str, float]) -> None:
        speed = values.get("tokens_per_sec")
        self._progress.update(self._task, completed=step, loss=_fmt(values.get("loss", "-")),
                              speed=f"{speed:,.0f}" if isinstance(speed, float) else "-")

    def note(self, text: str) -> None:
        self._progress.console.print(text, highlight=False, markup=False)

    def close(self) -> None:
        self._progress.stop()


def make_progress(is_main: bool, total: int, initial: int) -> Progress:
    if not is_main:
        return Silent()
    if sys.stdout.isatty():
        return Bar(total, initial)
    return Plain(total)


def print_table(title: str, rows: Mapping[str, Any]) -> None:
    """A two-column table (rich renders it plainly when stdout is not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in rows.items():
        table.add_row(str(key), _fmt(value))
    Console(soft_wrap=True).print(table)
