"""The prewarmed command server of the CLI tests (tests/_prewarm.py) behaves like a new process.

Most CLI tests trust it to: each of these checks one thing they rely on, against what a
freshly started interpreter does with the same script.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import _prewarm
import pytest

SCRIPT = r"""
import os, sys
print("argv", sys.argv[1:])
print("cwd", os.getcwd())
print("var", os.environ.get("PREWARM_PROBE"))
print("path0", sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
print("site", any(p.endswith("probe-site") for p in sys.path))
print("fresh", "codex_ml" not in sys.modules)
import codex_ml.registry
codex_ml.registry.metric_registry.register("leaked-from-an-earlier-command", lambda: None)
print("to stderr", file=sys.stderr)
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture(autouse=True)
def _server_on() -> None:
    if _prewarm.socket_path() is None:
        pytest.skip("prewarmed commands are off (TESTS_PREWARM=0, or the server could not start)")


def both(script: Path, *args: str, cwd: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    """The same script run by a new interpreter and by the prewarmed server."""
    return [subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
            for argv in ([sys.executable, str(script), *args], _prewarm.script_argv(str(script), *args))]


def test_a_script_sees_the_same_world_as_in_a_new_interpreter(tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PREWARM_PROBE": "yes",
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "probe-site"), os.environ.get("PYTHONPATH", "")])}
    for status in ("0", "3"):
        fresh, warm = both(script, status, cwd=tmp_path, env=env)
        assert (warm.returncode, warm.stdout, warm.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
        assert warm.returncode == int(status) and "fresh True" in warm.stdout  # no state from earlier runs


def test_an_uncaught_exception_is_a_traceback_and_exit_1(tmp_path: Path) -> None:
    script = tmp_path / "boom.py"
    script.write_text("raise RuntimeError('boom')\n")
    fresh, warm = both(script, cwd=tmp_path, env=dict(os.environ))
    assert warm.returncode == fresh.returncode == 1
    assert warm.stderr.splitlines()[-1] == fresh.stderr.splitlines()[-1] == "RuntimeError: boom"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_command_ended_by_a_signal_ends_its_client_by_the_same_signal(tmp_path: Path, sig: int) -> None:
    script = tmp_path / "wait.py"
    script.write_text("import sys, time\nprint('started', flush=True)\ntime.sleep(60)\n")
    pidfile = tmp_path / "pid"
    proc = subprocess.Popen(_prewarm.script_argv(str(script)), env={**os.environ, _prewarm.PIDFILE: str(pidfile)},
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "started\n"
    pid = _prewarm.command_pid(pidfile)
    assert pid is not None
    os.kill(pid, sig)
    assert proc.wait(timeout=30) == -sig


def test_codex_ml_commands_give_their_exit_status(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_ML_PLUGIN")}
    runs = [subprocess.run(_prewarm.argv(*args), cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=120, check=False) for args in (["--version"], ["train", "nonsense"],
                                                                   ["train", "training.max_stpes=1"])]
    assert [r.returncode for r in runs] == [0, 2, 1]
    assert runs[0].stdout.startswith("codex-ml ") and "Did you mean 'max_steps'" in runs[2].stderr


MODULE = r"""
import os, sys
print("argv", [os.path.basename(sys.argv[0]), *sys.argv[1:]])
print("main", __name__, os.path.basename(__file__))
print("path0", sys.path[0] == os.getcwd())
print("fresh", "codex_ml" not in sys.modules)
"""


def test_a_module_run_with_dash_m_sees_what_python_dash_m_gives_it(tmp_path: Path) -> None:
    (tmp_path / "probe_mod.py").write_text(MODULE)
    fresh, warm = [subprocess.run(argv, cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True,
                                  timeout=120, check=False)
                   for argv in ([sys.executable, "-m", "probe_mod", "a", "b"], _prewarm.argv("--module", "probe_mod", "a", "b"))]
    assert (warm.returncode, warm.stdout, warm.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert "argv ['probe_mod.py', 'a', 'b']" in warm.stdout and "path0 True" in warm.stdout


def test_the_shell_shim_forks_only_python_dash_m_codex_ml(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": os.pathsep.join([_prewarm.shim_dir(), os.environ["PATH"]])}
    pidfile = tmp_path / "pid"

    def shell(command: str) -> subprocess.CompletedProcess[str]:
        pidfile.unlink(missing_ok=True)
        return subprocess.run(["sh", "-c", command], cwd=tmp_path, env={**env, _prewarm.PIDFILE: str(pidfile)},
                              capture_output=True, text=True, timeout=120, check=False)

    forked = shell("python -m codex_ml.cli --version")
    assert forked.returncode == 0 and forked.stdout.startswith("codex-ml ") and pidfile.exists()
    real = shell("python -c 'import sys; print(sys.executable)'")
    assert real.stdout.strip() == sys.executable and not pidfile.exists()
