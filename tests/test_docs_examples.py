"""Every code block of docs/ (and plugins/README.md) runs, so the guides cannot rot.

Conventions (also stated in docs/index.md):

* ``python`` blocks run as scripts in their own process (forked from a server
  that has torch, Hydra and transformers imported: ``tests/_prewarm.py``; a
  block that looks at ``sys.modules`` gets a fresh interpreter), and
  ``bash`` blocks with ``bash -euo pipefail`` (``codex-ml`` forked the same
  way); both in one temporary folder per page, in order;
* ``toml`` and ``json`` blocks are parsed;
* ``file=PATH`` in the info string writes the block to PATH (python files
  are compiled) instead of running it;
* ``text`` blocks are output or layouts;
* ``<!-- norun: reason -->`` on the line before a fence skips it (rare).

Any other language (or none) fails the test, so nothing is skipped silently.
"""

from __future__ import annotations

import json
import os
import py_compile
import re
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import _prewarm
import pytest
import tomllib
from test_cli_app_support import clean_env

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted((REPO / "docs").rglob("*.md")) + [REPO / "plugins" / "README.md"]
PYTHON, SHELL, TOML, JSON, TEXT = {"python", "py"}, {"bash", "sh"}, {"toml"}, {"json"}, {"text"}
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)(?P<attrs>[^`]*)$")
NORUN = re.compile(r"^<!--\s*norun:\s*(?P<reason>\S.*?)\s*-->$")
MAX_NORUN = 3


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    attrs: dict[str, str]
    code: str
    norun: str | None = None
    where: str = field(init=False)

    def __post_init__(self) -> None:
        self.where = f"{self.page.relative_to(REPO)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, with their norun markers."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == "```"), None)
        assert end is not None, f"{page}:{i + 1}: unclosed code block"
        marker = NORUN.match(lines[i - 1].strip()) if i else None
        attrs = dict(a.split("=", 1) for a in match["attrs"].split() if "=" in a)
        blocks.append(Block(page, i + 1, match["lang"].lower(), attrs, "\n".join(lines[i + 1:end]) + "\n",
                            marker["reason"] if marker else None))
        i = end + 1
    return blocks


def doc_env() -> dict[str, str]:
    """The reader's shell: ``codex-ml`` is forked from the prewarmed server (tests/_prewarm.py)."""
    scripts = sysconfig.get_path("scripts")
    path = os.pathsep.join([_prewarm.shim_dir(), scripts, os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    return clean_env(PATH=path, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
                     PIP_ROOT_USER_ACTION="ignore", CODEX_ML_CACHE="0")


def run_block(block: Block, cwd: Path) -> None:
    if "file" in block.attrs:
        write_file(block, cwd)
    elif block.lang in PYTHON:
        script = cwd / f"_doc_block_{block.page.stem}_{block.line}.py"
        script.write_text(block.code)
        fresh = "sys.modules" in block.code  # it checks what importing costs: a new interpreter
        check(block, [sys.executable, script.name] if fresh else _prewarm.script_argv(script.name), cwd)
    elif block.lang in SHELL:
        check(block, ["bash", "-euo", "pipefail", "-c", block.code], cwd)
    elif block.lang in TOML:
        tomllib.loads(block.code)
    elif block.lang in JSON:
        json.loads(block.code)
    else:
        assert block.lang in TEXT, f"{block.where}: unknown code block language {block.lang!r}"


def write_file(block: Block, cwd: Path) -> None:
    path = cwd / block.attrs["file"]
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in [path.parent, *path.parent.parents]:
        if folder == cwd:
            break
        folder.chmod(0o755)  # plugin folders must not be writable by others
    path.write_text(block.code)
    path.chmod(0o644)
    if block.lang in PYTHON:
        py_compile.compile(str(path), doraise=True, cfile=str(cwd / ".compiled.pyc"))
    elif block.lang in TOML:
        tomllib.loads(block.code)


def check(block: Block, argv: list[str], cwd: Path) -> None:
    proc = subprocess.run(argv, check=False, cwd=cwd, env=doc_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (f"{block.where}: {block.lang} block failed ({proc.returncode})\n"
                                  f"{block.code}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    assert "Traceback" not in proc.stderr, f"{block.where}: traceback on stderr\n{proc.stderr}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_every_code_block_of_the_page_runs(page: Path, tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    for block in blocks_of(page):
        if block.norun is None:
            run_block(block, tmp_path)


def test_blocks_are_declared_and_skips_are_rare() -> None:
    blocks = [b for page in PAGES for b in blocks_of(page)]
    languages = PYTHON | SHELL | TOML | JSON | TEXT
    undeclared = [b.where for b in blocks if b.lang not in languages]
    assert undeclared == [], f"code blocks without a known language: {undeclared}"
    skipped = [f"{b.where} ({b.norun})" for b in blocks if b.norun]
    assert len(skipped) <= MAX_NORUN, f"too many norun blocks: {skipped}"
    runnable = [b for b in blocks if b.lang in PYTHON | SHELL and not b.norun]
    assert len(runnable) >= 30


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown page."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_relative_links_and_anchors_resolve() -> None:
    broken = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
            if "://" in target:
                continue
            path = (page.parent / target) if target else page
            if not path.exists() or (anchor and path.suffix == ".md" and anchor not in anchors(path)):
                broken.append(f"{page.relative_to(REPO)} -> {target}#{anchor}")
    assert broken == []


def test_examples_custom_plugin_runs(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "custom_plugin.py")], check=False, cwd=tmp_path,
                          env=doc_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_repository_plugins_folder_holds_no_python() -> None:
    """./plugins is auto-discovered: a .py file there would run in every test and CLI call."""
    assert [p.name for p in (REPO / "plugins").rglob("*.py")] == []
