"""Benchmark: ``codex-ml train data=lines`` on corpora of 30 MB, 300 MB and 1 GB.

For each size it generates a text corpus (random lines of common words) in a
temporary folder and runs the real command line in a fresh process::

    codex-ml train data=lines dataset_loader.path=CORPUS training.max_steps=30 ...

with an empty token cache, so each run tokenises its corpus once (streaming,
into the memory-mapped id file) and then trains. It reports the process's
peak RSS (``wait4``), the tokenisation throughput (from the cache manifest)
and the training throughput (``summary.json``). Targets: peak RSS within 10%
across the sizes and under 1 GB at 1 GB of text.

It then compares the cache's tokenisation with a plain ``tokenizers``
batch-encode loop (``encode_batch_fast`` over the same lines, ids dropped) on
the same BPE tokenizer (a tiny GPT-2 tokenizer written by
``codex_ml.models.tiny_checkpoints``), on the ``--bpe-mb`` corpus (aim: at
least 0.9x). Everything generated is deleted at the end (unless ``--keep``)::

    python benchmarks/corpus_scale.py                       # 30, 300, 1000 MB
    python benchmarks/corpus_scale.py --sizes 10 30 --bpe-mb 5   # quicker
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ["the", "of", "and", "to", "in", "is", "was", "that", "for", "on", "with", "as", "by", "at", "from", "his", "her", "they", "this", "which", "model", "data", "train", "token", "cat", "sat", "mat", "dog", "ran", "far", "away", "home", "bird", "sang", "river", "stone"]
BASE_CHILD = r"""
import sys, time
from codex_ml.data.lines import LinesDataset
from codex_ml.tokenizers.hf import build_hf_tokenizer
backend = build_hf_tokenizer(sys.argv[2]).backend_tokenizer
start, count, batch, size = time.perf_counter(), 0, [], 0
for line in LinesDataset(sys.argv[1]):
    batch.append(line + "\n"); size += len(line) + 1
    if size >= 1 << 20:
        count += sum(len(e.ids) for e in backend.encode_batch_fast(batch)); batch, size = [], 0
count += sum(len(e.ids) for e in backend.encode_batch_fast(batch))
print(count, time.perf_counter() - start)
"""
OURS_CHILD = r"""
import sys, time
from codex_ml.data.lines import LinesDataset
from codex_ml.tokenizers.hf import build_hf_tokenizer
from codex_ml.training.token_cache import tokenise
tok = build_hf_tokenizer(sys.argv[2])
meta = tokenise(LinesDataset(sys.argv[1]), tok, __import__("pathlib").Path(sys.argv[3]), "uint16")
print(meta["tokens"], meta["seconds"])
"""


def make_corpus(path: Path, size_mb: int) -> Path:
    """Random lines of words, written in 4 MB blocks (numpy keeps generation fast)."""
    import numpy as np

    rng = np.random.default_rng(size_mb)
    words = np.array(WORDS)
    target, written = size_mb * 1_000_000, 0
    with open(path, "w", encoding="utf-8") as handle:
        while written < target:
            picks = words[rng.integers(0, len(words), 600_000)]
            cuts = np.cumsum(rng.integers(4, 14, 80_000))
            lines = [" ".join(picks[a:b]) for a, b in itertools.pairwise(cuts) if b <= len(picks)]
            block = "\n".join(lines) + "\n"
            handle.write(block)
            written += len(block)
    return path


def run_train(corpus: Path, work: Path, name: str) -> dict[str, float]:
    """One ``codex-ml train`` process; its peak RSS from ``wait4``."""
    env = dict(os.environ, CODEX_ML_CACHE_DIR=str(work / f"cache-{name}"))
    args = [sys.executable, "-m", "codex_ml.cli", "train", "data=lines",
            f"dataset_loader.path={corpus}", "training.max_steps=30", "training.eval_interval=15",
            "training.log_interval=15", "training.checkpoint_interval=0", "training.device=cpu",
            f"training.output_dir={work / 'runs'}", f"training.run_name={name}",
            "evaluate.num_samples=2"]
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status:
        raise SystemExit(f"train on {corpus} failed:\n{proc.stderr.read().decode() if proc.stderr else ''}")
    [meta_file] = (work / f"cache-{name}" / "tokens").glob("*.json")
    meta = json.loads(meta_file.read_text())
    summary = json.loads((work / "runs" / name / "summary.json").read_text())
    return {"rss_mb": usage.ru_maxrss / 1024, "wall_s": wall, "tokens": meta["tokens"],
            "tokenise_tok_s": meta["tokens"] / meta["seconds"],
            "train_tok_s": summary["tokens_per_sec"], "cache_mb": meta["tokens"] * 2 / 1e6}


def compare_tokenisers(corpus: Path, work: Path) -> tuple[float, float]:
    """(plain tokenizers loop, codex_ml cache) tokens per second, same BPE tokenizer."""
    from codex_ml.models.tiny_checkpoints import write_tiny_gpt2

    folder = write_tiny_gpt2(work / "gpt2")
    rates = []
    for code, extra in ((BASE_CHILD, []), (OURS_CHILD, [str(work / "bpe.bin")])):
        out = subprocess.run([sys.executable, "-c", code, str(corpus), str(folder), *extra],
                             check=True, capture_output=True, text=True).stdout.split()
        rates.append(int(out[0]) / float(out[1]))
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 300, 1000], help="corpus MB")
    parser.add_argument("--bpe-mb", type=int, default=30, help="corpus MB for the BPE comparison")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="corpus_scale-"))
    try:
        rows = {}
        for size in opts.sizes:
            corpus = make_corpus(work / f"corpus-{size}mb.txt", size)
            rows[size] = run_train(corpus, work, f"r{size}")
            shutil.rmtree(work / f"cache-r{size}")
        report(rows)
        base, ours = compare_tokenisers(make_corpus(work / "bpe.txt", opts.bpe_mb), work)
        print(f"\nBPE tokenisation, {opts.bpe_mb} MB, tiny GPT-2 tokenizer: plain tokenizers "
              f"encode_batch_fast loop {base:,.0f} tok/s, codex_ml token cache {ours:,.0f} tok/s "
              f"({ours / base:.2f}x; aim >= 0.9x)")
    finally:
        if opts.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(rows: dict[int, dict[str, float]]) -> None:
    print("codex-ml train data=lines (byte tokenizer, decoder_only, 30 steps, empty token cache)")
    print(f"{'corpus':>8} {'tokens':>14} {'peak RSS MB':>12} {'tokenise tok/s':>15} "
          f"{'train tok/s':>12} {'wall s':>8} {'cache MB':>9}")
    for size, r in rows.items():
        print(f"{size:>5} MB {r['tokens']:>14,.0f} {r['rss_mb']:>12.0f} {r['tokenise_tok_s']:>15,.0f} "
              f"{r['train_tok_s']:>12,.0f} {r['wall_s']:>8.1f} {r['cache_mb']:>9.0f}")
    rss = [r["rss_mb"] for r in rows.values()]
    spread = (max(rss) - min(rss)) / min(rss)
    print(f"peak RSS spread {spread:.1%} (target <= 10%); at the largest corpus {rss[-1]:.0f} MB "
          "(target < 1024 MB)")


if __name__ == "__main__":
    main()
