"""``codex-ml cache clear``: removes our index cache files, says which, exit 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_epindex_cache import _settle


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codex_ml.cli.app", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("CODEX_ML_CACHE_DIR", "XDG_CACHE_HOME")}
    return {**out, "CODEX_ML_CACHE": "1", "HOME": str(tmp_path / "home")}


@pytest.mark.parametrize("where", ["CODEX_ML_CACHE_DIR", "XDG_CACHE_HOME", "HOME"])
def test_cache_clear_removes_what_listing_wrote(env: dict[str, str], tmp_path: Path, where: str) -> None:
    folder = {"CODEX_ML_CACHE_DIR": tmp_path / "c", "XDG_CACHE_HOME": tmp_path / "xdg" / "codex_ml",
              "HOME": tmp_path / "home" / ".cache" / "codex_ml"}[where]
    if where != "HOME":
        env[where] = str(folder if where == "CODEX_ML_CACHE_DIR" else folder.parent)
    (tmp_path / "cwd").mkdir()
    _settle(tmp_path / "cwd")  # a folder made this instant is never trusted in a cache (its clock tick)
    assert cli(env, tmp_path / "cwd", "ls").returncode == 0
    written = sorted(folder.glob("entry-points-*.idx"))
    assert len(written) == 1
    (folder / "notes.txt").write_text("not ours")
    (tmp_path / "target.idx").write_text("a link's target")
    os.symlink(tmp_path / "target.idx", folder / "entry-points-link.idx")
    (folder / "entry-points-0.idx.123.456.tmp").write_text("left by a killed writer")
    proc = cli(env, tmp_path / "cwd", "cache", "clear")
    assert proc.returncode == 0, proc.stderr
    assert f"removed 3 cache file(s) from {folder}" in proc.stdout and str(written[0]) in proc.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert (tmp_path / "target.idx").read_text() == "a link's target"  # the link went, never its target
    again = cli(env, tmp_path, "cache", "clear", "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout) == {"folder": str(folder), "removed": [], "count": 0}


def test_cache_clear_without_a_cache_folder_is_fine(env: dict[str, str], tmp_path: Path) -> None:
    env["CODEX_ML_CACHE_DIR"] = str(tmp_path / "never-made")
    proc = cli(env, tmp_path, "cache", "clear", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["count"] == 0
    assert not (tmp_path / "never-made").exists()


def test_cache_clear_of_a_folder_it_cannot_read_is_an_error(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    env["CODEX_ML_CACHE_DIR"] = str(tmp_path / "a-file")
    proc = cli(env, tmp_path, "cache", "clear")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(f"error: cannot clear the cache folder {tmp_path / 'a-file'}: Not a directory. "
                                  "Fix: set CODEX_ML_CACHE_DIR to a folder of your own")
