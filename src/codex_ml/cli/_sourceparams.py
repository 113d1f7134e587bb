"""A lazy entry's parameters read from its source text, without importing it.

``module:attr`` is looked up on ``sys.path`` by hand (``importlib``'s finders
would import the parent packages), the file is parsed with :mod:`ast` and the
``def`` (or the class's ``__init__``) is read. Nothing is executed, so a
plugin that is slow, heavy or broken to import still gets its parameters
shown in the docs.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def module_file(module: str) -> Path | None:
    """The ``.py`` file of ``module`` on ``sys.path`` (no import); None when not found."""
    parts = module.split(".")
    for base in sys.path:
        stem = Path(base or ".", *parts)
        for candidate in (stem.with_suffix(".py"), stem / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def source_parameters(target: str) -> list[dict[str, str]] | None:
    """Parameters of ``module:attr`` as written in its source; None when unknown."""
    module, _, attr = target.partition(":")
    path = module_file(module) if module and attr else None
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None
    node = _find(tree.body, attr.split(".")[0])
    if isinstance(node, ast.ClassDef):
        init = _find(node.body, "__init__")
        node = init if isinstance(init, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        return _arguments(node.args, skip_first=True) if node else []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _arguments(node.args, skip_first=False)
    return None


def _find(body: list[ast.stmt], name: str) -> ast.stmt | None:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return node
    return None


def _arguments(args: ast.arguments, skip_first: bool) -> list[dict[str, str]]:
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    rows = [_row(a, d) for a, d in zip(positional, defaults)]
    if args.vararg:
        rows.append(_row(args.vararg, None, "*"))
    rows += [_row(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        rows.append(_row(args.kwarg, None, "**"))
    return rows[1:] if skip_first and positional else rows


def _row(arg: ast.arg, default: ast.expr | None, star: str = "") -> dict[str, str]:
    return {"name": star + arg.arg, "annotation": ast.unparse(arg.annotation) if arg.annotation else "",
            "default": ast.unparse(default) if default is not None else ""}
