"""The modules of ``codex_ml.training`` import each other without a cycle.

Read from the source (every ``import`` statement, top-level or inside a
function), so a cycle that only bites at call time is caught too. The package's
``__init__`` is left out: every submodule import runs it first anyway.
"""
from __future__ import annotations

import ast
from pathlib import Path

import codex_ml.training

PACKAGE = "codex_ml.training"
FOLDER = Path(codex_ml.training.__file__).parent


def _targets(node: ast.AST, modules: set[str]) -> set[str]:
    """The sibling modules one import statement names."""
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == PACKAGE:  # from codex_ml.training import checkpoint
            return {a.name for a in node.names if a.name in modules}
        if node.module.startswith(PACKAGE + "."):
            return {node.module.split(".")[2]}
    if isinstance(node, ast.ImportFrom) and node.level == 1:  # from . import x / from .x import y
        return {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
    if isinstance(node, ast.Import):
        return {a.name.split(".")[2] for a in node.names if a.name.startswith(PACKAGE + ".")}
    return set()


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in FOLDER.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in modules:
        tree = ast.parse((FOLDER / f"{name}.py").read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            found |= _targets(node, modules)
        graph[name] = (found & modules) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as ``[a, b, ..., a]``, or ``[]``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def test_training_modules_import_without_a_cycle() -> None:
    graph = import_graph()
    assert {"jobs", "loop", "evaluate", "lm"} <= set(graph)  # the walk found the package
    assert "parts" in graph["loop"] and "reporting" in graph["lm"]  # and reads imports
    cycle = find_cycle(graph)
    assert cycle == [], "import cycle in codex_ml.training: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle() -> None:
    # The check above can fail: the shape it guards against is found.
    graph = {"jobs": {"loop", "tiny"}, "loop": {"jobs"}, "tiny": set()}
    assert find_cycle(graph) == ["jobs", "loop", "jobs"]
    assert find_cycle({"evaluate": {"lm"}, "lm": {"evaluate"}}) == ["evaluate", "lm", "evaluate"]
