"""``data=lines``: a memory-mapped token cache, keyed by content and tokenizer, never half-trusted."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
from test_training_support import clean_env, cli, ok

torch = pytest.importorskip("torch")

QUICK = ["data=lines", "training.max_steps=4", "training.eval_interval=2", "training.log_interval=2",
         "training.checkpoint_interval=0", "evaluate.num_samples=2", "evaluate.max_new_tokens=4",
         "training.batch_size=4", "training.block_size=32", "training.eval_batches=2", "training.plot=false"]
WORDS = ["the", "cat", "sat", "on", "a", "mat", "while", "dogs", "ran", "far", "away", "from", "home", "and", "birds", "sang"]


def corpus(path: Path, lines: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    text = "".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) + "\n"
                   for _ in range(lines))
    path.write_text(text)
    return path


def cache_files(root: Path) -> list[Path]:
    return sorted(root.glob("*.bin"))


def test_train_tokenises_once_and_again_when_the_file_changes(tmp_path: Path) -> None:
    text = corpus(tmp_path / "c.txt", 3000)
    env = clean_env(CODEX_ML_CACHE_DIR=str(tmp_path / "cache"))
    first = ok(cli(["train", *QUICK, f"dataset_loader.path={text}", "training.run_name=a"], tmp_path, env))
    assert "tokenising" in first.stderr
    [bin_file] = cache_files(tmp_path / "cache" / "tokens")
    meta = json.loads(bin_file.with_suffix(".json").read_text())
    assert meta["dtype"] == "uint16" and bin_file.stat().st_size == 2 * meta["tokens"]
    ids = np.fromfile(bin_file, dtype=np.uint16)
    assert bytes(ids.astype(np.uint8)) == text.read_bytes()  # the byte tokenizer: ids are the bytes
    assert meta["tail"][-1] == text.read_text().splitlines()[-1]
    again = ok(cli(["train", *QUICK, f"dataset_loader.path={text}", "training.run_name=b"], tmp_path, env))
    assert "tokenising" not in again.stderr and cache_files(tmp_path / "cache" / "tokens") == [bin_file]
    summary = json.loads((tmp_path / "runs" / "b" / "summary.json").read_text())
    assert summary["evaluation"]["samples"][0]["prompt"]  # prompts from held-out lines
    corpus(text, 3000, seed=1)  # same size, other content
    changed = ok(cli(["train", *QUICK, f"dataset_loader.path={text}", "training.run_name=c"], tmp_path, env))
    assert "tokenising" in changed.stderr and len(cache_files(tmp_path / "cache" / "tokens")) == 2


def test_a_changed_tokenizer_retokenises_with_the_fast_encoder(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from codex_ml.data.lines import LinesDataset
    from codex_ml.models.tiny_checkpoints import write_tiny_gpt2
    from codex_ml.tokenizers.bytes import ByteTokenizer
    from codex_ml.tokenizers.hf import build_hf_tokenizer
    from codex_ml.training.token_cache import cached_tokens

    text = corpus(tmp_path / "c.txt", 200)
    cfg = {"training": {"output_dir": str(tmp_path / "runs")}}
    gpt2 = build_hf_tokenizer(write_tiny_gpt2(tmp_path / "gpt2"))
    data = LinesDataset(text)
    byte_file, _ = cached_tokens(cfg, data, ByteTokenizer())
    bpe_file, meta = cached_tokens(cfg, data, gpt2)
    assert bpe_file != byte_file and bpe_file.parent == tmp_path / "runs" / ".token-cache"
    assert meta["tokenizer"].startswith("tokenizers:")
    expected = [i for line in text.read_text().splitlines() for i in gpt2.encode(line + "\n")]
    assert np.fromfile(bpe_file, dtype=np.uint16).tolist() == expected


def test_an_interrupted_tokenisation_is_never_trusted(tmp_path: Path) -> None:
    from codex_ml.data.lines import LinesDataset
    from codex_ml.tokenizers.bytes import ByteTokenizer
    from codex_ml.training import token_cache

    cfg = {"training": {"output_dir": str(tmp_path)}}
    data = LinesDataset(corpus(tmp_path / "c.txt", 500))

    def dies(lines: object) -> object:
        yield "first line"
        raise KeyboardInterrupt  # a Ctrl-C half way

    with pytest.raises(KeyboardInterrupt):
        token_cache.tokenise(dies(None), ByteTokenizer(), tmp_path / "x.bin", "uint16")  # type: ignore[arg-type]
    assert list(tmp_path.glob("*x.bin*")) == []  # the temporary file is gone too
    bin_file, meta = token_cache.cached_tokens(cfg, data, ByteTokenizer())
    with open(bin_file, "r+b") as handle:  # a torn file under a complete manifest
        handle.truncate(bin_file.stat().st_size // 2)
    again, meta2 = token_cache.cached_tokens(cfg, data, ByteTokenizer())
    assert again == bin_file and bin_file.stat().st_size == 2 * meta2["tokens"] == 2 * meta["tokens"]


def test_a_cache_folder_others_can_write_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.data.lines import LinesDataset
    from codex_ml.tokenizers.bytes import ByteTokenizer
    from codex_ml.training.errors import TrainingConfigError
    from codex_ml.training.token_cache import cached_tokens

    shared = tmp_path / "shared" / "tokens"
    shared.mkdir(parents=True)
    os.chmod(shared, 0o777)
    monkeypatch.setenv("CODEX_ML_CACHE_DIR", str(tmp_path / "shared"))
    with pytest.raises(TrainingConfigError, match=r"refusing the token cache .*writable by other users.*set CODEX_ML_CACHE_DIR"):
        cached_tokens({}, LinesDataset(corpus(tmp_path / "c.txt", 50)), ByteTokenizer())


def test_random_windows_are_a_function_of_the_step_and_split_across_ranks(tmp_path: Path) -> None:
    from codex_ml.training.distributed import DistContext
    from codex_ml.training.token_cache import TokenStream
    from codex_ml.training.token_windows import StreamBatches

    ids = np.arange(5000, dtype=np.uint16)
    ids.tofile(tmp_path / "t.bin")
    stream = TokenStream(tmp_path / "t.bin", "uint16", 100, 4000)

    def ctx(rank: int, world: int) -> DistContext:
        return DistContext(rank, rank, world, torch.device("cpu"), None)

    one = StreamBatches(stream, 16, 8, 1, ctx(0, 1), seed=3)
    x, y = one.get(5, 0)
    assert x.shape == (8, 16) and torch.equal(x[:, 1:], y[:, :-1]) and int(x.min()) >= 100
    assert int(y.max()) < 4000 and torch.equal(one.get(5, 0)[0], x)
    assert not torch.equal(one.get(6, 0)[0], x)
    halves = [StreamBatches(stream, 16, 4, 1, ctx(r, 2), seed=3).get(5, 0)[0] for r in (0, 1)]
    assert torch.equal(torch.cat(halves), x)
