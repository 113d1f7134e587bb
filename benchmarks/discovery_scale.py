"""Discovery at scale (issues 7 and 15): cost versus the number of installed distributions.

Generates N synthetic installed distributions (each with one plugin in the
benchmark group) and prints, per N, the whole-process time to list the
group's names and to load one named component, and the hot get() cost, for
codex_ml (index cache cold and warm), the floor (a minimal index: stat each
sys.path entry, read one file of names), importlib.metadata, stevedore
(cached names, and ExtensionManager) and catalogue, all in ONE interleaved
run: every round times each implementation once, so a busy machine slows
them alike. Each process is timed twice: wall clock, and CPU (user + system,
from ``wait4``), which a busy machine barely moves. ``per name`` is
(time - ``python -c pass``) / N: what listing costs above the interpreter,
per listed name; it and ``x floor`` are medians over rounds of each round's
own difference and ratio. ``--baseline REV`` adds
codex_ml at git revision REV (e.g. ``main``) as rows of the same run.

    python benchmarks/discovery_scale.py                # N = 0, 100, 1000, 5000
    python benchmarks/discovery_scale.py --n 100 1000 5000 --repeat 5 --baseline main
    python benchmarks/discovery_scale.py --plugins 10   # 10 plugins among N distributions
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import subprocess
from collections.abc import Callable
from operator import sub, truediv
from pathlib import Path

from _common import (
    GROUP,
    HOT_CODE,
    LIST_CODE,
    LOAD_CODE,
    Workdir,
    clean_env,
    cold,
    hot_in_subprocess,
    make_site,
    run_once,
    table,
)

# The floor: the least any persistent index can do on a warm start. Not a
# library: no validation, no metadata, no hooks; it only proves the bound.
FLOOR_CODE = f"""
import os, sys
CACHE = os.environ["BENCH_FLOOR_CACHE"]

def stamps():
    out = []
    for path in sys.path:
        try:
            st = os.stat(path or ".")
            out.append(f"{{st.st_ino}}:{{st.st_mtime_ns}}:{{st.st_ctime_ns}}")
        except OSError:
            out.append("-")
    return "\\x1f".join(out)

def scan():
    names = []
    for path in sys.path:
        try:
            children = os.listdir(path or ".")
        except OSError:
            continue
        for child in children:
            if not child.endswith(".dist-info"):
                continue
            try:
                with open(os.path.join(path or ".", child, "entry_points.txt")) as fh:
                    text = fh.read()
            except OSError:
                continue
            group = ""
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("["):
                    group = line[1:-1]
                elif group == {GROUP!r} and "=" in line:
                    names.append(line.partition("=")[0].strip())
    return sorted(names)

key = stamps()
try:
    with open(CACHE) as fh:
        head, _, body = fh.read().partition("\\n")
except OSError:
    head = None
if head == key:
    names = body.split("\\t")
else:
    names = scan()
    with open(CACHE, "w") as fh:
        fh.write(key + "\\n" + "\\t".join(names))
"""


class Impl:
    """One row: code to list the group, code to load one name, and what runs untimed first."""

    def __init__(self, label: str, code: str, env: dict[str, str], load: str = "", hot: str = "",
                 before: Callable[[], None] | None = None) -> None:
        self.label, self.code, self.env, self.load, self.hot, self.before = label, code, env, load, hot, before
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.load_times: list[float] = []


def impls(work: Path, n: int, site: Path, baseline: tuple[str, Path] | None) -> list[Impl]:
    def env(tag: str, *front: Path, **extra: str) -> dict[str, str]:
        path = ":".join(str(p) for p in (*front, site))
        out = clean_env(PYTHONPATH=path, CODEX_ML_CACHE="1", CODEX_ML_CACHE_DIR=str(work / f"cache-{n}-{tag}"),
                        XDG_CACHE_HOME=str(work / f"xdg-{n}-{tag}"), BENCH_FLOOR_CACHE=str(work / f"floor-{n}"))
        out.update(extra)
        return out

    def wipe(tag: str) -> Callable[[], None]:
        return lambda: shutil.rmtree(work / f"cache-{n}-{tag}", ignore_errors=True)

    rows = [Impl("python -c pass (interpreter start)", "pass", env("pass")),
            Impl("floor: stat sys.path, read one file", FLOOR_CODE, env("floor")),
            Impl("codex_ml, import only (no listing)", "import codex_ml.registry", env("new")),
            Impl("codex_ml, index cache cold", LIST_CODE["codex_ml"], env("new"), LOAD_CODE["codex_ml"],
                 before=wipe("new")),
            Impl("codex_ml, index cache warm", LIST_CODE["codex_ml"], env("new"), LOAD_CODE["codex_ml"],
                 HOT_CODE["codex_ml"])]
    if baseline is not None:
        rev, src = baseline
        rows += [Impl(f"codex_ml @ {rev}, index cache cold", LIST_CODE["codex_ml"], env("base", src),
                      LOAD_CODE["codex_ml"], before=wipe("base")),
                 Impl(f"codex_ml @ {rev}, index cache warm", LIST_CODE["codex_ml"], env("base", src),
                      LOAD_CODE["codex_ml"], HOT_CODE["codex_ml"])]
    rows += [Impl("importlib.metadata.entry_points(group=)", LIST_CODE["importlib.metadata"], env("im"),
                  LOAD_CODE["importlib.metadata"], HOT_CODE["importlib.metadata"]),
             Impl("stevedore cached names (cache warm)", LIST_CODE["stevedore (list_entry_points, cached)"],
                  env("sd", XDG_CACHE_HOME=str(work / f"stevedore-{n}")), LOAD_CODE["stevedore (DriverManager)"]),
             Impl("stevedore ExtensionManager (imports all)", LIST_CODE["stevedore (ExtensionManager)"],
                  env("sd", XDG_CACHE_HOME=str(work / f"stevedore-{n}")), "",
                  HOT_CODE["stevedore (ExtensionManager)"]),
             Impl("catalogue (imports all to list)", LIST_CODE["catalogue"], env("cat"), LOAD_CODE["catalogue"],
                  HOT_CODE["catalogue"])]
    return rows


def measure(work: Path, n: int, repeat: int, plugins: int | None,
            baseline: tuple[str, Path] | None) -> list[list[object]]:
    site = make_site(work, n, plugins)
    cwd = work / "cwd"
    rows = impls(work, n, site, baseline)
    for r in rows:  # one untimed round: caches written, files in the page cache
        cold(r.code, r.env, 1, cwd)
    order = random.Random(n)  # seeded: a rerun times the same orders
    for _ in range(repeat):  # interleaved: each round times every implementation once
        # In a new random order each round: a process starts faster or slower after some
        # neighbours (a heavy peer leaves the CPU clocked up and the caches full), and a
        # fixed or rotated order would give each row the same neighbour every round.
        for r in order.sample(rows, len(rows)):
            wall, cpu = run_once(r.code, r.env, cwd, r.before)
            r.times.append(wall)
            r.cpu.append(cpu)
        for r in rows:
            if r.load and n:
                r.load_times.append(run_once(r.load, r.env, cwd, r.before)[0])
    return [_row(n, r, rows[0], rows[1], cwd) for r in rows]


def _row(n: int, r: Impl, interpreter: Impl, floor: Impl, cwd: Path) -> list[object]:
    """Wall and CPU medians; ratio to the floor and cost per listed name above the interpreter, each both ways.

    The ratio and the cost per name are medians over rounds of what one round
    measured (its own floor and interpreter runs, a few milliseconds apart),
    so a machine that changes speed between rounds moves both sides alike.
    """
    med = statistics.median
    wall, cpu = med(r.times), med(r.cpu)
    ratio = f"{med(map(truediv, r.times, floor.times)):.2f}x / {med(map(truediv, r.cpu, floor.cpu)):.2f}x"
    per_name = ""
    if n and r is not interpreter:
        above = [med(map(sub, mine, base)) / n * 1e6
                 for mine, base in ((r.times, interpreter.times), (r.cpu, interpreter.cpu))]
        per_name = f"{above[0]:.1f} / {above[1]:.1f} us"
    load = ms(med(r.load_times)) if r.load_times else ""
    hot = ns(n, r.hot, r.env, cwd) if r.hot else ""
    return [n, r.label, ms(wall), ms(cpu), ratio, per_name, load, hot]


def ns(n: int, code: str, env: dict[str, str], cwd: Path) -> str:
    if n == 0:
        return ""
    value = hot_in_subprocess(code, env, cwd)
    return f"{value / 1000:.1f} us" if value >= 10_000 else f"{value:.0f} ns"


def ms(seconds: float) -> str:
    return "" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"  # NaN: not measured


def checkout(rev: str, work: Path) -> Path:
    """``src/`` of git revision ``rev`` (this repository), for the baseline rows."""
    repo = Path(__file__).resolve().parents[1]
    dest = work / rev.replace("/", "_")
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, "src/codex_ml"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[0, 100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plugins", type=int, default=None,
                        help="only this many of the N distributions carry a plugin (default: all)")
    parser.add_argument("--baseline", metavar="REV", help="also time codex_ml at this git revision (e.g. main)")
    parser.add_argument("--keep", action="store_true", help="keep the generated distributions")
    args = parser.parse_args()
    rows: list[list[object]] = []
    with Workdir(args.keep) as work:
        baseline = (args.baseline, checkout(args.baseline, work)) if args.baseline else None
        for n in args.n:
            rows += measure(work, n, args.repeat, args.plugins, baseline)
            print(f"... N={n} done", flush=True)
    print(table(["N", "implementation", "list: wall", "list: CPU", "x floor (wall / CPU)",
                 "per name above `python -c pass` (wall / CPU)", "load one", "hot get()"], rows))


if __name__ == "__main__":
    main()
