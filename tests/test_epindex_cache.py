"""The persistent entry-point index (issue 7): fast, and never stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _support import env_with, make_package, pip_install

LIST = """
    import json
    from codex_ml.registry import _epindex, metric_registry
    names = [n for n in metric_registry.list() if n.startswith("cache-")]
    value = metric_registry.get(names[0])([]) if names else None
    print(json.dumps({"names": names, "source": _epindex.current().source, "value": value}))
"""


def _project(root: Path, version: str, names: list[str]) -> Path:
    body = f"VERSION = {version!r}\ndef score(p, t=None):\n    return float({version.split('.')[0]!r})\n"
    return make_package(root / version, "cache-plugin", {"codex_ml.metrics": {n: "cache_mod:score" for n in names}},
                        {"cache_mod.py": body}, version=version)


# Importing a plugin for the first time writes __pycache__ beside it, which
# changes that folder and (correctly) invalidates the index once. The tests
# pin exact cache hits, so they keep bytecode out of the watched folders.
NO_PYC = {"PYTHONDONTWRITEBYTECODE": "1"}


def _settle(*roots: Path) -> None:
    """Stamps younger than the racy window are never trusted: age the folders' mtimes.

    (Equivalent to waiting two seconds, without the wait.) Setting a time moves
    the ctime to now, which no one can set back: wait out that clock tick.
    """
    import time

    past = 1_600_000_000  # a fixed moment: aging twice must not look like a change
    for root in roots:
        for path in [root, *root.rglob("*")]:
            if path.is_dir() or path.name == "entry_points.txt":
                os.utime(path, (past, past))
    time.sleep(0.06)


@pytest.fixture
def cached_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    site = tmp_path / "site"
    site.mkdir()
    env = env_with(site, CODEX_ML_CACHE="1", CODEX_ML_CACHE_DIR=str(tmp_path / "cache"), **NO_PYC)
    return site, env


def listing(env: dict[str, str], cwd: Path, python: str = sys.executable) -> dict[str, object]:
    """LIST in a fresh interpreter whose working folder (on sys.path) is aged too."""
    import json
    import textwrap

    if not cwd.exists():
        cwd.mkdir()
        _settle(cwd)
    proc = subprocess.run([python, "-c", textwrap.dedent(LIST)], env=env, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _pip(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, capture_output=True)


def test_install_upgrade_uninstall_are_seen_by_the_next_process(tmp_path: Path) -> None:
    """A real virtual environment, changed by real pip install/upgrade/uninstall."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = env_with(Path(__file__).resolve().parents[1] / "src", CODEX_ML_CACHE="1",
                   CODEX_ML_CACHE_DIR=str(tmp_path / "cache"), **NO_PYC)


    def run() -> dict[str, object]:
        return listing(env, tmp_path / "cwd", python)

    def pip(*args: str) -> None:
        _pip(["--python", python, *args, "-q"])

    def wheel(version: str, names: list[str]) -> str:
        out = tmp_path / "wheels" / version
        _pip(["wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out),
              str(_project(tmp_path, version, names))])
        return str(next(out.glob("*.whl")))

    assert run()["names"] == []
    pip("install", "--no-deps", "--no-index", wheel("1.0", ["cache-a"]))
    first = run()
    assert first["names"] == ["cache-a"] and first["value"] == 1.0
    _settle(venv)
    run()  # writes a trusted cache
    r = run(); assert r["source"] == "cache", r
    pip("install", "--no-deps", "--no-index", "--upgrade", wheel("2.0", ["cache-b"]))
    second = run()
    assert second["names"] == ["cache-b"] and second["value"] == 2.0 and second["source"] == "scan"
    _settle(venv)
    run()
    pip("uninstall", "-y", "cache-plugin")
    assert run()["names"] == []


def test_editable_metadata_change_is_seen(cached_env, tmp_path: Path) -> None:
    """A legacy develop install: an egg-info folder rewritten in place."""
    site, env = cached_env
    src = tmp_path / "devsrc"
    (src / "dev_plugin.egg-info").mkdir(parents=True)
    (src / "dev_plugin.py").write_text("def score(p, t=None):\n    return 3.0\n")
    eps = src / "dev_plugin.egg-info" / "entry_points.txt"
    (src / "dev_plugin.egg-info" / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: dev-plugin\nVersion: 0.1\n")
    eps.write_text("[codex_ml.metrics]\ncache-dev = dev_plugin:score\n")
    env = env_with(src, **{k: env[k] for k in ("CODEX_ML_CACHE", "CODEX_ML_CACHE_DIR")}, **NO_PYC)
    _settle(src)
    assert listing(env, tmp_path / "cwd")["names"] == ["cache-dev"]
    assert listing(env, tmp_path / "cwd")["source"] == "cache"
    eps.write_text("[codex_ml.metrics]\ncache-dev2 = dev_plugin:score\n")  # in place: folder mtime unchanged
    assert listing(env, tmp_path / "cwd")["names"] == ["cache-dev2"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "flip", "binary", "foreign-key"])
def test_damaged_cache_is_ignored_and_rebuilt(cached_env, tmp_path: Path, damage: str) -> None:
    site, env = cached_env
    pip_install(_project(tmp_path, "1.0", ["cache-a"]), site)
    _settle(site)
    listing(env, tmp_path / "cwd")
    files = list((tmp_path / "cache").glob("entry-points-*.idx"))
    assert len(files) == 1
    data = files[0].read_bytes()
    files[0].write_bytes({
        "truncate": data[: len(data) // 2], "garbage": b"not an index\n" * 10, "empty": b"",
        "flip": data.replace(b"cache-a", b"cache-z"), "binary": os.urandom(512),
        "foreign-key": data.replace(b"key\t", b"key\tX", 1),
    }[damage])
    out = listing(env, tmp_path / "cwd")
    assert out["names"] == ["cache-a"] and out["source"] == "scan"
    assert listing(env, tmp_path / "cwd")["source"] == "cache"  # rebuilt and trusted again


def test_unreadable_cache_dir_is_not_fatal(cached_env, tmp_path: Path) -> None:
    site, env = cached_env
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    env["CODEX_ML_CACHE_DIR"] = str(blocker / "sub")
    pip_install(_project(tmp_path, "1.0", ["cache-a"]), site)
    assert listing(env, tmp_path / "cwd")["names"] == ["cache-a"]


def test_cache_disabled_writes_nothing(cached_env, tmp_path: Path) -> None:
    site, env = cached_env
    env["CODEX_ML_CACHE"] = "0"
    pip_install(_project(tmp_path, "1.0", ["cache-a"]), site)
    _settle(site)
    assert listing(env, tmp_path / "cwd")["source"] == "scan"
    assert not (tmp_path / "cache").exists()


def test_eight_processes_on_a_cold_cache(cached_env, tmp_path: Path) -> None:
    site, env = cached_env
    pip_install(_project(tmp_path, "1.0", ["cache-a", "cache-b"]), site)
    _settle(site, tmp_path / "cwd")
    import textwrap
    (tmp_path / "cwd").mkdir(exist_ok=True)
    _settle(tmp_path / "cwd")
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(LIST)], env=env, cwd=tmp_path / "cwd",
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    import json
    assert all(json.loads(o.strip().splitlines()[-1])["names"] == ["cache-a", "cache-b"] for o, _ in outs)
    assert len(list((tmp_path / "cache").glob("entry-points-*.idx"))) == 1
    assert not list((tmp_path / "cache").glob("*.tmp"))  # no temporary file left behind
    assert listing(env, tmp_path / "cwd")["source"] == "cache"


def test_xdg_cache_home_is_the_default_location(cached_env, tmp_path: Path) -> None:
    site, env = cached_env
    env.pop("CODEX_ML_CACHE_DIR")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    listing(env, tmp_path / "cwd")
    assert list((tmp_path / "xdg" / "codex_ml").glob("entry-points-*.idx"))
