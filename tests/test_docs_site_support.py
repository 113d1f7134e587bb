"""Helpers of the HTML site and report tests (no tests here): real builds, real files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from test_cli_app_support import clean_env, codex_ml, with_path

REPO = Path(__file__).resolve().parents[1]
DEMO_PLUGINS = REPO / "scripts" / "site_demo" / "plugins"


def build_demo_site(out: Path, examples: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``codex-ml docs build --format html`` with the example distributions and the demo plugin folder."""
    plugins = cwd / "demo_plugins"
    if not plugins.exists():
        shutil.copytree(DEMO_PLUGINS, plugins)  # a private copy: the folder must not be group-writable
    env = with_path(clean_env(CODEX_ML_PLUGIN_PATH=str(plugins)), examples)
    return codex_ml("docs", "build", "--format", "html", "--out", str(out), *extra, cwd=cwd, env=env)


def search_index(site: Path) -> list[dict[str, Any]]:
    """The rows of ``assets/search-index.js`` (a script assigning one JSON array)."""
    text = (site / "assets" / "search-index.js").read_text()
    return list(json.loads(text.split("=", 1)[1].strip().rstrip(";")))


def local_links(page: Path) -> list[str]:
    """Every href/src of ``page`` that is not an external URL or a pure fragment."""
    refs = re.findall(r'(?:href|src)="([^"]*)"', page.read_text())
    return [r for r in refs if not re.match(r"^[a-z]+:", r) and not r.startswith("#")]
