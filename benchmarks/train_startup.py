"""Start-up cost of ``codex-ml train`` as a Hydra application, against another source tree.

Times ``python -m codex_ml.cli train --cfg job`` (composition only) and a one-step
run of the README's main job, for this checkout and for ``--baseline SRC`` (e.g. an
older ``src/`` unpacked with ``git archive main src | tar -x -C /tmp/old``), and
prints a table of medians. Run from the repository root:

    python benchmarks/train_startup.py --baseline /tmp/old/src --reps 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"
CASES = {
    "--cfg job (compose only)": ["train", "--cfg", "job"],
    "main job, 1 step": ["train", "training.max_steps=1", "training.eval_interval=1",
                         "evaluate.num_samples=1", "evaluate.max_new_tokens=2"],
}


def once(src: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as cwd:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "codex_ml.cli", *args], cwd=cwd, env=env,
                       check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another src/ folder to compare with")
    parser.add_argument("--reps", type=int, default=5)
    opts = parser.parse_args()
    trees = {"this checkout": HERE, **({"baseline": opts.baseline} if opts.baseline else {})}
    print(f"| case | {' | '.join(trees)} |")
    print("| --- |" + " --- |" * len(trees))
    for name, args in CASES.items():
        times: dict[str, list[float]] = {t: [] for t in trees}
        for _ in range(opts.reps):  # interleaved, so a busy machine slows both alike
            for tree, src in trees.items():
                times[tree].append(once(src, args))
        print(f"| {name} | " + " | ".join(f"{statistics.median(times[t]):.2f} s" for t in trees) + " |")


if __name__ == "__main__":
    main()
