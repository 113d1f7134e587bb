"""Registry speed (issue 2): hot get() and cold listing with 1,000 installed distributions.

Hot: ns per lookup of an already-loaded component, for codex_ml's
``Registry.get`` and ``reg[name]``, a plain ``dict.get`` and catalogue's
registry ``get``, in one process. Cold: a fresh interpreter listing one
group's names with 1,000 synthetic distributions installed, for codex_ml
(index cache cold and warm), ``importlib.metadata.entry_points(group=...)``,
stevedore and catalogue.

    python benchmarks/registry_bench.py [--n 1000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import shutil

from _common import LIST_CODE, Workdir, clean_env, cold, hot_ns, make_site, table


def hot_rows() -> list[list[object]]:
    import catalogue

    from codex_ml.registry import Registry

    reg = Registry("bench_hot", publish=False)
    plain: dict[str, object] = {}
    cat = catalogue.create("codex_ml_bench_hot")
    for i in range(1000):
        obj = object()
        reg.register(f"component-{i}", obj, factory=False, aliases=(f"alias-{i}",))
        plain[f"component-{i}"] = obj
        cat.register(f"component-{i}", func=obj)
    key, spelled, alias = "component-500", "COMPONENT_500", "alias-500"
    for name in (key, spelled, alias):
        reg.get(name)  # loaded: the hot path from here on
    calls = {"dict.get (baseline)": lambda: plain.get(key),
             "codex_ml Registry.get": lambda: reg.get(key),
             "codex_ml Registry[name]": lambda: reg[key],
             "codex_ml Registry.get, other spelling": lambda: reg.get(spelled),
             "codex_ml Registry.get, alias": lambda: reg.get(alias),
             "catalogue Registry.get": lambda: cat.get(key)}
    best = {name: float("inf") for name in calls}
    for _ in range(7):  # interleaved rounds: a busy machine slows every row alike
        for name, fn in calls.items():
            best[name] = min(best[name], hot_ns(fn, n=100_000, rounds=1))
    baseline = best["dict.get (baseline)"]
    return [[name, f"{ns:.1f} ns", f"{ns / baseline:.2f}x"] for name, ns in best.items()]


def cold_rows(n: int, repeat: int) -> list[list[object]]:
    with Workdir() as work:
        site = make_site(work, n)
        cache = work / "cache"
        env = clean_env(PYTHONPATH=str(site), CODEX_ML_CACHE="1", CODEX_ML_CACHE_DIR=str(cache),
                        XDG_CACHE_HOME=str(work / "xdg"))
        cwd = work / "cwd"
        wipe = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
        results = {"python -c pass": cold("pass", env, repeat, cwd),
                   "codex_ml (index cache cold)": cold(LIST_CODE["codex_ml"], env, repeat, cwd, wipe)}
        cold(LIST_CODE["codex_ml"], env, 1, cwd)
        results["codex_ml (index cache warm)"] = cold(LIST_CODE["codex_ml"], env, repeat, cwd)
        for impl in ("importlib.metadata", "stevedore (list_entry_points, cached)",
                     "stevedore (ExtensionManager)", "catalogue"):
            cold(LIST_CODE[impl], env, 1, cwd)  # warm any cache the peer keeps
            results[impl] = cold(LIST_CODE[impl], env, repeat, cwd)
    ref = results["importlib.metadata"]
    return [[name, f"{t * 1000:.1f} ms", f"{t / ref:.2f}x"] for name, t in results.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print("Hot lookup of a loaded component (best of 7 interleaved rounds x 100,000 calls)")
    print(table(["implementation", "per call", "vs dict.get"], hot_rows()))
    print("aim: exact name within 1.3x of dict.get; other spellings and aliases within 2x\n")
    print(f"Cold process listing one group's names, {args.n} installed distributions (median of {args.repeat})")
    print(table(["implementation", "wall", "vs importlib.metadata"], cold_rows(args.n, args.repeat)))


if __name__ == "__main__":
    main()
