"""Output: Rich tables on a terminal, plain aligned text otherwise, JSON on request.

Rich is imported only when stdout is a terminal, so piped and scripted runs
(and the start-up benchmark) never pay for it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # importing typing costs milliseconds on the listing path
if TYPE_CHECKING:
    from typing import Any, TextIO


class Table:
    """A titled table of strings."""

    __slots__ = ("columns", "rows", "title")

    def __init__(self, title: str, columns: list[str], rows: list[list[str]] | None = None) -> None:
        self.title, self.columns, self.rows = title, columns, rows if rows is not None else []


class Text:
    """A paragraph; ``style`` is a hint for Rich ("bold", "red", "dim" ...)."""

    __slots__ = ("style", "text")

    def __init__(self, text: str, style: str = "") -> None:
        self.text, self.style = text, style


Block = Table | Text


def use_rich(stream: TextIO | None = None) -> bool:
    """Rich only on an interactive terminal (and not when NO_COLOR/TERM=dumb ask for plain)."""
    stream = stream or sys.stdout
    from codex_ml.registry._settings import switch

    if os.environ.get("TERM") == "dumb" or switch(os.environ.get("CODEX_ML_PLAIN", "")):
        return False  # CODEX_ML_PLAIN=1 (or true/yes/on) asks for plain text; 0 does not
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def emit(blocks: list[Block]) -> None:
    """Print ``blocks`` to stdout, with Rich when it is a terminal."""
    if use_rich():
        try:
            _emit_rich(blocks)
            return
        except ImportError:
            pass
    sys.stdout.write(render_plain(blocks))


def emit_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, default=str, sort_keys=False) + "\n")


def render_plain(blocks: list[Block]) -> str:
    return "".join(_plain_block(b) for b in blocks)


def _plain_block(block: Block) -> str:
    if isinstance(block, Text):
        return block.text + "\n"
    return plain_table(block)


def plain_table(table: Table) -> str:
    """Columns aligned with two spaces; the last column is never padded."""
    header = [c.upper() for c in table.columns]
    widths = [max(len(r[i]) for r in [header, *table.rows]) for i in range(len(header))]
    lines = [table.title] if table.title else []
    for row in [header, *table.rows]:
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    if not table.rows:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


def _emit_rich(blocks: list[Block]) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text as RichText

    console = Console()
    for block in blocks:
        if isinstance(block, Text):
            console.print(block.text, style=block.style or None, markup=False, highlight=False)
            continue
        table = RichTable(title=block.title or None, title_justify="left", header_style="bold")
        for column in block.columns:
            table.add_column(column, overflow="fold")
        for row in block.rows:
            table.add_row(*(RichText(cell) for cell in row))
        console.print(table)


def error(message: str) -> None:
    """A one-paragraph error on stderr."""
    sys.stderr.write(f"error: {message}\n")


def warning(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")
