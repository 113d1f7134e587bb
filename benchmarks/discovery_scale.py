"""Discovery at scale (issue 7): cost versus the number of installed distributions.

Generates N synthetic installed distributions (each with one plugin in the
benchmark group) and prints, per N, the cold-process time to list the
group's names and to load one named component, and the hot get() cost, for
codex_ml (index cache cold and warm), raw importlib.metadata, stevedore and
catalogue, all in one run.

    python benchmarks/discovery_scale.py                # N = 0, 100, 1000, 5000
    python benchmarks/discovery_scale.py --n 0 100 --repeat 3
    python benchmarks/discovery_scale.py --plugins 10   # 10 plugins among N distributions
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from _common import (
    HOT_CODE,
    LIST_CODE,
    LOAD_CODE,
    Workdir,
    clean_env,
    cold,
    hot_in_subprocess,
    make_site,
    table,
)


def measure(work: Path, n: int, repeat: int, plugins: int | None) -> list[list[object]]:
    site = make_site(work, n, plugins)
    load = cold if n else (lambda *a, **k: float("nan"))  # nothing to load when N = 0
    cache = work / f"cache-{n}"
    env = clean_env(PYTHONPATH=str(site), CODEX_ML_CACHE="1", CODEX_ML_CACHE_DIR=str(cache),
                    XDG_CACHE_HOME=str(work / f"xdg-{n}"))
    cwd = work / "cwd"
    wipe = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
    rows: list[list[object]] = [[n, "python -c pass (interpreter start)", ms(cold("pass", env, repeat, cwd)), "", ""]]
    rows.append([n, "codex_ml, index cache cold", ms(cold(LIST_CODE["codex_ml"], env, repeat, cwd, wipe)),
                 ms(load(LOAD_CODE["codex_ml"], env, repeat, cwd, wipe)), ""])
    cold(LIST_CODE["codex_ml"], env, 1, cwd)  # warm the index
    rows.append([n, "codex_ml, index cache warm", ms(cold(LIST_CODE["codex_ml"], env, repeat, cwd)),
                 ms(load(LOAD_CODE["codex_ml"], env, repeat, cwd)), ns(n, "codex_ml", env, cwd)])
    rows.append([n, "importlib.metadata.entry_points(group=)", ms(cold(LIST_CODE["importlib.metadata"], env, repeat, cwd)),
                 ms(load(LOAD_CODE["importlib.metadata"], env, repeat, cwd)), ns(n, "importlib.metadata", env, cwd)])
    cold(LIST_CODE["stevedore (list_entry_points, cached)"], env, 1, cwd)  # warm stevedore's cache
    rows.append([n, "stevedore list_entry_points (cache warm)",
                 ms(cold(LIST_CODE["stevedore (list_entry_points, cached)"], env, repeat, cwd)),
                 ms(load(LOAD_CODE["stevedore (DriverManager)"], env, repeat, cwd)), ""])
    rows.append([n, "stevedore ExtensionManager (imports all)",
                 ms(cold(LIST_CODE["stevedore (ExtensionManager)"], env, repeat, cwd)), "",
                 ns(n, "stevedore (ExtensionManager)", env, cwd)])
    rows.append([n, "catalogue (imports all to list)", ms(cold(LIST_CODE["catalogue"], env, repeat, cwd)),
                 ms(load(LOAD_CODE["catalogue"], env, repeat, cwd)), ns(n, "catalogue", env, cwd)])
    return rows


def ns(n: int, impl: str, env: dict[str, str], cwd: Path) -> str:
    if n == 0:
        return ""
    value = hot_in_subprocess(HOT_CODE[impl], env, cwd)
    return f"{value / 1000:.1f} us" if value >= 10_000 else f"{value:.0f} ns"


def ms(seconds: float) -> str:
    return "" if seconds != seconds else f"{seconds * 1000:.1f} ms"  # NaN: not measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[0, 100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plugins", type=int, default=None,
                        help="only this many of the N distributions carry a plugin (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the generated distributions")
    args = parser.parse_args()
    rows: list[list[object]] = []
    with Workdir(args.keep) as work:
        for n in args.n:
            rows += measure(work, n, args.repeat, args.plugins)
            print(f"... N={n} done", flush=True)
    print(table(["N", "implementation", "cold: list names", "cold: load one", "hot get()"], rows))


if __name__ == "__main__":
    main()
