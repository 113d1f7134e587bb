"""``codex-ml doctor --timeout N``: a plugin that blocks forever at import is named, not waited for."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _support import env_with, make_package, pip_install

SLEEPY = "import time\nwhile True:\n    time.sleep(3600)  # blocks forever at import\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sleeping plugin, a plugin that kills its interpreter, and a healthy one, really pip-installed."""
    root = tmp_path_factory.mktemp("doctor")
    target = root / "site"
    return pip_install(
        make_package(root, "sleepy-plugin", {"codex_ml.metrics": {"sleepy": "sleepy_mod:score"}},
                     {"sleepy_mod.py": SLEEPY}), target,
        make_package(root, "exiting-plugin", {"codex_ml.models": {"exiting": "exiting_mod:Model"}},
                     {"exiting_mod.py": "import os\nos._exit(3)\n"}),
        make_package(root, "fine-plugin", {"codex_ml.metrics": {"fine": "fine_mod:score"}},
                     {"fine_mod.py": "def score(p, t=None):\n    return 1.0\n"}))


def doctor(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "codex_ml.cli.app", "doctor", *args], env=env_with(site),
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("fast_path", ["1", "0"])
def test_a_plugin_that_hangs_at_import_is_named(site: Path, tmp_path: Path, fast_path: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ML_CLI_FASTPATH", fast_path)  # the fast path and Typer parse --timeout alike
    start = time.monotonic()
    proc = doctor(site, tmp_path / "cwd", "--timeout", "1", "--json")
    assert time.monotonic() - start < 60
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    failed = {f["name"]: f for f in data["failures"]}
    assert failed["sleepy"]["cause"].startswith("TimeoutError: module sleepy_mod did not finish importing within 1 s")
    assert failed["sleepy"]["distribution"] == "sleepy-plugin"
    assert "ended the interpreter while importing (exit status 3)" in failed["exiting"]["cause"]
    assert "fine" not in failed
    assert any("fine (fine-plugin)" in row["loaded"] for row in data["registries"] if row["kind"] == "metrics")
    assert not any("sleepy" in d["message"] for d in data["disabled"])  # reported as failed, not as disabled
    assert "Traceback" not in proc.stderr


def test_human_output_names_the_plugin(site: Path, tmp_path: Path) -> None:
    proc = doctor(site, tmp_path / "cwd", "--timeout=1")
    assert proc.returncode == 1
    assert "FAILED metrics sleepy (entry point codex_ml.metrics:sleepy = sleepy_mod:score of distribution " \
           "sleepy-plugin 0.1.0): TimeoutError: module sleepy_mod did not finish importing within 1 s" in proc.stdout


@pytest.mark.parametrize("bad", ["abc", "-1", "nan"])
def test_a_bad_timeout_is_a_usage_error(site: Path, tmp_path: Path, bad: str) -> None:
    proc = doctor(site, tmp_path / "cwd", f"--timeout={bad}")
    assert proc.returncode == 2
    assert "--timeout must be a number of seconds >= 0" in proc.stderr and "Traceback" not in proc.stderr


def test_a_plugin_file_that_hangs_at_import_is_named(tmp_path: Path) -> None:
    """Plugin-folder files get the same child-process check; the healthy file still loads."""
    cwd = tmp_path / "cwd"
    plugins = cwd / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "sleepy_file.py").write_text(SLEEPY)
    (plugins / "fine_file.py").write_text(
        "from codex_ml.registry import register_metric\n"
        "@register_metric('fine-file')\ndef fine(p, t=None):\n    return 1.0\n")
    for path in (cwd, plugins, *plugins.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "codex_ml.cli.app", "doctor", "--timeout", "1", "--json"],
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert time.monotonic() - start < 60
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    failed = {Path(f["path"]).name: f for f in data["plugin_files"]["failed"]}
    assert failed["sleepy_file.py"]["cause"].startswith("TimeoutError: plugin file ")
    assert "did not finish importing within 1 s" in failed["sleepy_file.py"]["cause"]
    assert "fine_file.py" not in failed
    assert [Path(p).name for p in data["plugin_files"]["loaded"]] == ["fine_file.py"]
    assert "Traceback" not in proc.stderr
