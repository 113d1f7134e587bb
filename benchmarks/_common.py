"""Shared benchmark helpers: synthetic installed distributions and cold-process timing."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

GROUP = "codex_ml.bench"
CATALOGUE_GROUP = "codex_ml_bench"  # catalogue's naming: "<namespace>_<name>"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without bytecode suppression (a user's normal start-up)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def make_site(root: Path, n: int, plugins: int | None = None) -> Path:
    """``n`` installed distributions; the first ``plugins`` (default: all) carry one tiny
    plugin in GROUP (and in catalogue's group), the others only a console script."""
    plugins = n if plugins is None else min(plugins, n)
    site = root / f"site-{n}-{plugins}"
    if site.exists():
        return site
    site.mkdir(parents=True)
    for i in range(n):
        name = f"synth_plugin_{i:05d}"
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        groups = (f"\n[{GROUP}]\nplugin-{i:05d} = {name}:build\n\n[{CATALOGUE_GROUP}]\n"
                  f"plugin-{i:05d} = {name}:build\n") if i < plugins else ""
        (info / "entry_points.txt").write_text(f"[console_scripts]\n{name} = {name}:main\n{groups}")
        (info / "RECORD").write_text("")
        (site / f"{name}.py").write_text("def build(**kwargs):\n    return kwargs\n\ndef main():\n    pass\n")
    # pip compiles what it installs: do the same, so the first import of a plugin
    # does not create __pycache__ (and change the folder) in the middle of a timing.
    import compileall

    compileall.compile_dir(str(site), quiet=1)
    old = time.time() - 60  # older than the index's racy window, as a real site-packages is
    for folder in (site, site / "__pycache__"):
        if folder.exists():
            os.utime(folder, (old, old))
    return site


def cold(code: str, env: dict[str, str], repeat: int, cwd: Path, before=None) -> float:  # type: ignore[no-untyped-def]
    """Median wall seconds of ``python -c code`` in a fresh process (``before()`` runs untimed)."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd, check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_once(code: str, env: dict[str, str], cwd: Path, before=None) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall, CPU) seconds of one ``python -c code``; CPU (user + system) barely moves on a busy machine."""
    if before is not None:
        before()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, code)
    return wall, usage.ru_utime + usage.ru_stime


def hot_ns(fn, n: int = 200_000, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    """Best-of-``rounds`` nanoseconds per call of ``fn()``, in this thread's CPU time.

    CPU time, not wall time: on a shared machine the time another process
    holds the core must not count against whichever row was running.
    """
    best = float("inf")
    for _ in range(rounds):
        start = time.thread_time_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.thread_time_ns() - start) / n)
    return best


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *(line(r) for r in cells[1:])])


class Workdir:
    """A temporary folder, removed afterwards unless --keep."""

    def __init__(self, keep: bool = False) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="codex-bench-"))
        self.keep = keep

    def __enter__(self) -> Path:
        (self.path / "cwd").mkdir()
        old = time.time() - 60
        os.utime(self.path / "cwd", (old, old))
        return self.path

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


# Listing one group's names / loading one named component, per implementation.
LIST_CODE = {
    "codex_ml": f"""
        from codex_ml.registry import Registry
        names = Registry("bench", entry_point_group={GROUP!r}, publish=False).list()
    """,
    "importlib.metadata": f"""
        from importlib.metadata import entry_points
        names = [ep.name for ep in entry_points(group={GROUP!r})]
    """,
    "stevedore (list_entry_points, cached)": f"""
        from stevedore import _cache  # what ExtensionManager lists from, before importing
        names = [ep.name for ep in _cache.get_group_all({GROUP!r})]
    """,
    "stevedore (ExtensionManager)": f"""
        from stevedore import ExtensionManager
        names = ExtensionManager({GROUP!r}).names()
    """,
    "catalogue": """
        import catalogue
        names = list(catalogue.create("codex_ml", "bench", entry_points=True).get_all())
    """,
}
LOAD_CODE = {
    "codex_ml": f"""
        from codex_ml.registry import Registry
        obj = Registry("bench", entry_point_group={GROUP!r}, publish=False).get("plugin-00000")
    """,
    "importlib.metadata": f"""
        from importlib.metadata import entry_points
        obj = entry_points(group={GROUP!r})["plugin-00000"].load()
    """,
    "stevedore (DriverManager)": f"""
        from stevedore import DriverManager
        obj = DriverManager({GROUP!r}, "plugin-00000").driver
    """,
    "catalogue": """
        import catalogue
        obj = catalogue.create("codex_ml", "bench", entry_points=True).get("plugin-00000")
    """,
}


HOT_CODE = {
    "codex_ml": f"""
        from codex_ml.registry import Registry
        reg = Registry("bench", entry_point_group={GROUP!r}, publish=False)
        reg.get("plugin-00000")
        fn = lambda: reg.get("plugin-00000")
    """,
    "importlib.metadata": f"""
        from importlib.metadata import entry_points
        eps = entry_points(group={GROUP!r})
        fn = lambda: eps["plugin-00000"]
    """,
    "stevedore (ExtensionManager)": f"""
        from stevedore import ExtensionManager
        mgr = ExtensionManager({GROUP!r})
        fn = lambda: mgr["plugin-00000"]
    """,
    "catalogue": """
        import catalogue
        reg = catalogue.create("codex_ml", "bench", entry_points=True)
        reg.get("plugin-00000")
        fn = lambda: reg.get("plugin-00000")
    """,
}
HOT_SUFFIX = """
import time
n = 1
while True:  # calibrate: some peers rescan entry points on every get()
    start = time.perf_counter_ns()
    for _ in range(n):
        fn()
    spent = time.perf_counter_ns() - start
    if spent > 50_000_000 or n >= 200_000:
        break
    n *= 4
best = spent / n
for _ in range(4):
    start = time.perf_counter_ns()
    for _ in range(n):
        fn()
    best = min(best, (time.perf_counter_ns() - start) / n)
print(best)
"""


def hot_in_subprocess(code: str, env: dict[str, str], cwd: Path) -> float:
    full = textwrap.dedent(code) + HOT_SUFFIX
    out = subprocess.run([sys.executable, "-c", full], env=env, cwd=cwd, check=True, capture_output=True,
                         text=True).stdout
    return float(out.strip().splitlines()[-1])
