"""Cold start-up of the listing commands beside ``python -c "import typer"``.

    python benchmarks/cli_startup.py            # 40 rounds
    python benchmarks/cli_startup.py --reps 100 --json

Every round starts each command once, as a fresh process, in turn (so load
drift on the machine hits all of them alike); the table gives the median
wall time per command and its ratio to importing Typer alone. The aim: our
listing commands cost no more than 1.30 x ``import typer``.

Fairness: all runs share one fresh ``PYTHONPYCACHEPREFIX`` (warmed first), so
every interpreter, Typer's and ours, reads compiled bytecode, as after
``pip install``; ``codex-ml`` runs its real console script with this
interpreter (no pyenv shim or shell in between); the working directory is an
empty temporary folder (no ./plugins); the entry-point index cache lives in a
temporary folder, warmed like the bytecode. The rows marked "typer path" set
``CODEX_ML_CLI_FASTPATH=0``: the same commands parsed by Typer 0.29, whose
per-parameter pydantic coercion costs about 50 ms more.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

AIM = 1.30


def console_script() -> list[str]:
    """``codex-ml`` as installed by pip, run by this interpreter."""
    script = Path(sysconfig.get_path("scripts")) / "codex-ml"
    if script.is_file():
        return [sys.executable, str(script)]
    found = shutil.which("codex-ml")
    if found is None:
        raise SystemExit("codex-ml is not installed: run `pip install -e .` first")
    return [found]


def commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    py, fast_off = sys.executable, {"CODEX_ML_CLI_FASTPATH": "0"}
    plugins_cli = [py, "-m", "codex_ml.cli.plugins_cli", "list", "models"]
    return {
        'python -c "pass"': ([py, "-c", "pass"], {}),
        'python -c "import typer"': ([py, "-c", "import typer"], {}),
        "codex-ml ls": (console_script() + ["ls"], {}),
        "plugins_cli list models": (plugins_cli, {}),
        "codex-ml ls (typer path)": (console_script() + ["ls"], fast_off),
        "plugins_cli list models (typer path)": (plugins_cli, fast_off),
    }


def base_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("CODEX_ML_PLUGIN_PATH", None)
    env.update(PYTHONPYCACHEPREFIX=str(tmp / "pycache"), CODEX_ML_CACHE="1",
               CODEX_ML_CACHE_DIR=str(tmp / "cache"))
    return env


def run_once(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, check=False, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def measure(reps: int, warmup: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="codex-ml-bench-") as name:
        tmp = Path(name)
        (tmp / "cwd").mkdir()
        env = base_env(tmp)
        cmds = {label: (argv, {**env, **extra}) for label, (argv, extra) in commands().items()}
        for _ in range(warmup):
            for argv, cmd_env in cmds.values():
                run_once(argv, cmd_env, tmp / "cwd")
        times: dict[str, list[float]] = {label: [] for label in cmds}
        for _ in range(reps):
            for label, (argv, cmd_env) in cmds.items():
                times[label].append(run_once(argv, cmd_env, tmp / "cwd"))
        return times


def summarise(times: dict[str, list[float]]) -> list[dict[str, object]]:
    base = statistics.median(times['python -c "import typer"'])
    rows = []
    for label, samples in times.items():
        med = statistics.median(samples)
        q = statistics.quantiles(samples, n=4)
        rows.append({"command": label, "median_ms": round(med * 1000, 1), "p25_ms": round(q[0] * 1000, 1),
                     "p75_ms": round(q[2] * 1000, 1), "vs_typer": round(med / base, 2)})
    return rows


def print_table(rows: list[dict[str, object]], reps: int) -> None:
    print(f"cold start-up, {reps} rounds, median wall time (Python {sys.version.split()[0]}, {sys.platform})")
    print(f"{'command':40} {'median ms':>10} {'p25':>8} {'p75':>8} {'x import typer':>15}")
    for r in rows:
        print(f"{r['command']:40} {r['median_ms']:>10} {r['p25_ms']:>8} {r['p75_ms']:>8} {r['vs_typer']:>15}")
    ours = [r for r in rows if r["command"] in ("codex-ml ls", "plugins_cli list models")]
    worst = max(float(str(r["vs_typer"])) for r in ours)
    verdict = "met" if worst <= AIM else "NOT met"
    print(f"aim: listing <= {AIM:.2f} x import typer: {verdict} (worst {worst:.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40, help="rounds (default 40)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up rounds (default 3)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args(argv)
    rows = summarise(measure(args.reps, args.warmup))
    print_table(rows, args.reps)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
