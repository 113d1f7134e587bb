"""Benchmark: the ``lines`` dataset streams a large text file in constant memory.

Generates a text file (1 GB by default) in a temporary folder, then iterates
it in fresh subprocesses, one per method, so each one's peak RSS is its own:

* ``lines``: ``codex_ml.data.LinesDataset(path)`` (what ``create("lines", path=...)`` returns);
* ``open``: a plain ``for line in open(path)`` loop;
* ``readlines`` (only with ``--readlines``): ``open(path).readlines()``, the
  non-streaming contrast.

Prints a table of lines, seconds, lines per second and peak RSS, and deletes
the file afterwards (unless ``--keep``)::

    python benchmarks/lines_dataset.py                 # 1 GB
    python benchmarks/lines_dataset.py --size-mb 64    # quicker
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
method, path = sys.argv[1], sys.argv[2]
from codex_ml.data.lines import LinesDataset
start = time.perf_counter()
count = chars = 0
if method == "lines":
    for line in LinesDataset(path):
        count += 1
        chars += len(line)
elif method == "open":
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            count += 1
            chars += len(line)
else:
    with open(path, encoding="utf-8") as handle:
        all_lines = handle.readlines()
    for line in all_lines:
        count += 1
        chars += len(line.rstrip("\n"))
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"method": method, "lines": count, "chars": chars, "seconds": seconds, "peak_kb": peak_kb}))
"""


def corpus_lines() -> list[str]:
    from codex_ml.catalogue import paths

    text = paths.resolve("tiny_corpus").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def generate(path: Path, size_mb: int) -> int:
    """Write about ``size_mb`` MiB of varied English lines; return the bytes written."""
    lines = corpus_lines()
    block_lines = [
        f"{i} {lines[i % len(lines)]} {lines[(i * 7) % len(lines)]}" for i in range(20_000)
    ]
    block = ("\n".join(block_lines) + "\n").encode("utf-8")
    target, written = size_mb * 1024 * 1024, 0
    with open(path, "wb") as handle:
        while written < target:
            chunk = block[: target - written] if target - written < len(block) else block
            handle.write(chunk)
            written += len(chunk)
        if not chunk.endswith(b"\n"):
            handle.write(b"\n")
            written += 1
    return written


def measure(method: str, path: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{method} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def baseline_kb() -> int:
    """Peak RSS of a child that only starts Python and imports the dataset module."""
    code = "import resource, codex_ml.data.lines; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    return int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


def print_table(rows: list[dict[str, float]], size_bytes: int, base_kb: int) -> None:
    print(
        f"\nfile: {size_bytes / 1e6:.0f} MB; interpreter + import baseline RSS: {base_kb / 1024:.1f} MiB\n"
    )
    print("| method    | lines       | seconds | lines/s     | peak RSS (MiB) |")
    print("|-----------|-------------|---------|-------------|----------------|")
    for r in rows:
        rate = r["lines"] / r["seconds"] if r["seconds"] else float("inf")
        print(
            f"| {r['method']:<9} | {int(r['lines']):>11,} | {r['seconds']:>7.2f} | {rate:>11,.0f} "
            f"| {r['peak_kb'] / 1024:>14.1f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size-mb", type=int, default=1024, help="size of the generated file (MiB)"
    )
    parser.add_argument(
        "--dir", default=None, help="where to write the file (default: a temp folder)"
    )
    parser.add_argument(
        "--readlines", action="store_true", help="also time readlines() (uses RAM ~ file size)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args(argv)
    if args.size_mb < 1:
        parser.error("--size-mb must be at least 1")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "lines.txt"
        start = time.perf_counter()
        size = generate(path, args.size_mb)
        print(f"generated {path} ({size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f}s")
        methods = ["lines", "open"] + (["readlines"] if args.readlines else [])
        rows = [measure(m, path) for m in methods]
        if len({r["lines"] for r in rows}) != 1:
            raise RuntimeError(f"methods disagree on the line count: {rows}")
        print_table(rows, size, baseline_kb())
        if args.keep:
            kept = Path(args.dir or ".") / "lines.txt"
            path.replace(kept)
            print(f"kept {kept}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
