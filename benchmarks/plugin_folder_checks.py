"""What the plugin-folder checks cost (docs/reliability.md, "Threat model").

Makes N plugin files spread over folders, then times, in one process,
``discover_plugins(force=True)`` (every folder from ``/`` checked, each file
read from its checked descriptor) against a plain loop that reads, compiles
and runs the same files with no check, and ``_fsafe.check`` of one file.

    python benchmarks/plugin_folder_checks.py              # N = 10, 100, 1000
    python benchmarks/plugin_folder_checks.py --n 50 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from _common import table

from codex_ml.registry import _fsafe, _plugindirs, set_auto_discover


def make_tree(root: Path, n: int) -> list[Path]:
    files = []
    for i in range(n):
        path = root / f"group{i % 10}" / f"sub{i % 7}" / f"plugin_{i:05d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {i}\n")
        files.append(path)
    return files


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times) if repeat < 3 else statistics.median(times)


def plain(files: list[Path]) -> None:
    for file in files:
        exec(compile(file.read_bytes(), str(file), "exec"), {})  # noqa: S102 - the unchecked baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    set_auto_discover(False)
    warnings.simplefilter("ignore")
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            root = Path(tmp) / f"plugins-{n}"
            files = make_tree(root, n)
            checked = best(lambda r=root: _plugindirs.discover_plugins([str(r)], force=True), args.repeat)
            unchecked = best(lambda f=files: plain(f), args.repeat)
            one = best(lambda f=files: _fsafe.check(f[0]), max(args.repeat, 50))
            rows.append([n, f"{checked * 1e3:.1f}", f"{unchecked * 1e3:.1f}",
                         f"{(checked - unchecked) / n * 1e6:.0f}", f"{one * 1e6:.0f}"])
    print(table(["files", "discover_plugins (ms)", "read+compile+exec, no checks (ms)",
                 "checks per file (us)", "_fsafe.check of one file (us)"], rows))


if __name__ == "__main__":
    main()
