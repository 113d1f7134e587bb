"""``<run>/loss.png`` at the end of training and ``codex-ml plot`` overlays."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_training_support import cli, ok

pytest.importorskip("matplotlib")


def fake_run(root: Path, name: str, scale: float) -> Path:
    run = root / name
    run.mkdir(parents=True)
    rows = [{"step": s, "split": split, "loss": scale * 5 / (1 + s), "perplexity": 2.0 ** (5 / (1 + s))}
            for s in range(0, 40, 10) for split in ("train", "val")]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def png_size(file: Path) -> tuple[int, int]:
    data = file.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{file} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_training_writes_the_loss_png(tmp_path: Path) -> None:
    result = ok(cli(["train", "training.max_steps=4", "training.eval_interval=2",
                     "training.log_interval=2", "training.checkpoint_interval=0",
                     "evaluate.num_samples=1", "training.run_name=p"], tmp_path))
    png = tmp_path / "runs" / "p" / "loss.png"
    assert "loss curves: runs/p/loss.png" in result.stdout + result.stderr
    width, height = png_size(png)
    assert width > 1000 and height > 400


def test_plot_false_leaves_the_picture_out(tmp_path: Path) -> None:
    result = ok(cli(["train", "training.max_steps=2", "training.eval_interval=2", "training.checkpoint_interval=0",
                     "evaluate.num_samples=1", "training.run_name=q", "training.plot=false"], tmp_path))
    assert "loss curves" not in result.stdout + result.stderr
    assert (tmp_path / "runs" / "q" / "metrics.jsonl").exists() and not (tmp_path / "runs" / "q" / "loss.png").exists()


def test_plot_overlays_runs(tmp_path: Path) -> None:
    a, b = fake_run(tmp_path, "small-lr", 1.0), fake_run(tmp_path, "big-lr", 0.5)
    ok(cli(["plot", str(a), str(b), "--out", "cmp.png", "--metric", "val_perplexity"], tmp_path))
    assert png_size(tmp_path / "cmp.png")[0] > 600


def test_plot_errors(tmp_path: Path) -> None:
    a = fake_run(tmp_path, "a", 1.0)
    missing = cli(["plot", str(a), "--out", "x.png", "--metric", "val_bleu"], tmp_path)
    assert missing.returncode == 1 and "no val 'bleu' values" in missing.stderr
    assert cli(["plot", str(a)], tmp_path).returncode == 2
    text = cli(["plot", str(a), "--out", "x.txt"], tmp_path)
    assert text.returncode == 2 and "--out x.txt: the picture's file name must end in one of " in text.stderr
    assert ".jpg" in text.stderr and ".png" in text.stderr and ".svg" in text.stderr
    ok(cli(["plot", str(a), "--out", "cmp.jpg"], tmp_path))  # any format matplotlib writes
    assert (tmp_path / "cmp.jpg").read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    nothing = cli(["plot", str(tmp_path), "--out", "x.png"], tmp_path)
    assert nothing.returncode == 1 and "has no metrics.jsonl" in nothing.stderr
    (tmp_path / "a-file").write_text("")
    unwritable = cli(["plot", str(a), "--out", "a-file/x.png"], tmp_path)
    assert unwritable.returncode == 1 and "cannot write the picture a-file/x.png: File exists" in unwritable.stderr
    assert "Fix: pass --out a path in a folder you can write." in unwritable.stderr


def test_without_matplotlib_a_one_line_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from codex_ml.training import plot

    for name in ["matplotlib", *[m for m in sys.modules if m.startswith("matplotlib.")]]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed (even if imported before)
    notes: list[str] = []
    assert plot.plot_run(fake_run(tmp_path, "r", 1.0), notes.append) is None
    assert notes == [plot.MISSING] and not (tmp_path / "r" / "loss.png").exists()
