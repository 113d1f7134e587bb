"""``codex-ml report RUN...``: the page's content from run folders (the browser test opens one)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_cli_app_support import codex_ml, parsed

CONFIG = """\
model:
  name: decoder_only
  kwargs: {{d_model: 64}}
tokenizer:
  name: offline:bytes
dataset_loader:
  name: offline:tiny-corpus
  path: null
training:
  trainer: offline:functional
  learning_rate: {lr}
  max_steps: 20
"""


def make_run(root: Path, name: str, lr: float, *, provenance: bool) -> Path:
    """A run folder as `codex-ml train` writes it (values chosen by the test)."""
    run = root / name
    (run / "evals").mkdir(parents=True)
    (run / "config.yaml").write_text(CONFIG.format(lr=lr))
    records = [{"step": s, "split": "train", "loss": 5.0 - s * lr * 50} for s in (10, 20)]
    records += [{"step": s, "split": "val", "loss": 5.5 - s * lr * 40, "perplexity": 250.0 / (1 + s * lr * 20),
                 "token_accuracy": s * lr} for s in (0, 10, 20)]
    lines = [json.dumps(r) for r in records] + ['{"step": 30, "split": "tr']  # a crash mid-line
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    (run / "summary.json").write_text(json.dumps({
        "model": "decoder_only", "trainer": "offline:functional", "steps": 20, "device": "cpu",
        "world_size": 1, "train_seconds": 9.5, "tokens_per_sec": 2100.0,
        "final_eval": {"loss": 5.5 - 20 * lr * 40, "perplexity": 20.0},
        "evaluation": {"metrics": {"loss": 3.1, "perplexity": 22.2},
                       "samples": [{"prompt": "The cat", "completion": " <script>alert(1)</script>",
                                    "reference": "sat on the mat."}]}}))
    (run / "evals" / "20260101-120000.json").write_text(json.dumps({
        "model": "decoder_only", "weights": f"{run}/checkpoints/step-000020",
        "metrics": {"loss": 3.0, "perplexity": 20.1, "token_accuracy": 0.31},
        "overrides": ["evaluate.num_samples=2"], "artefacts_changed": []}))
    if provenance:
        (run / "provenance.json").write_text(json.dumps({
            "versions": {"python": "3.11.2", "codex-ml": "0.1.0", "torch": "2.13.0"},
            "components": {"model": {"name": "decoder_only", "source": "built-in",
                                     "distribution": "codex-ml", "version": "0.1.0"},
                           "dataset": {"name": "offline:tiny-corpus", "source": "built-in"}},
            "artefacts": {"dataset_loader": {"key": "dataset_loader.path", "path": "/data/tiny_corpus.txt",
                                             "sha256": "ab" * 32, "kind": "file"}}}))
    return run


def test_report_of_two_runs(tmp_path: Path) -> None:
    a = make_run(tmp_path / "runs", "lr-2e-3", 0.002, provenance=True)
    b = make_run(tmp_path / "runs", "lr-4e-3", 0.004, provenance=False)
    out = tmp_path / "out" / "report.html"
    data = parsed(codex_ml("report", str(a), str(b), "--out", str(out), "--json", cwd=tmp_path))
    assert data["charts"] == ["Training loss", "Validation loss", "Validation perplexity",
                              "Validation token accuracy"]
    assert data["notes"] == ["lr-2e-3: metrics.jsonl: 1 unreadable line(s) skipped.",
                             "lr-4e-3: metrics.jsonl: 1 unreadable line(s) skipped."]
    page = out.read_text()
    curves = page.split('id="curves"')[1].split("</section>")[0]
    assert curves.count("<svg") == 4 and curves.count("<polyline") == 8  # two runs overlaid per chart
    assert "perplexity (log scale)" in curves
    config = page.split('id="config"')[1].split("</section>")[0]
    assert re.findall(r"<td><code>([^<]+)</code></td>", config) == ["training.learning_rate"]
    assert config.count('<td class="diff"><code>') == 2 and "0.004" in config
    evals = page.split('id="evaluations"')[1].split("</section>")[0]
    assert evals.count("end of training (summary.json)") == 2 and "evals/20260101-120000.json" in evals
    assert "override evaluate.num_samples=2" in evals and ">0.31<" in evals
    samples = page.split('id="samples"')[1].split("</section>")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in samples and "<script>" not in page
    trained = page.split('id="data"')[1].split("</section>")[0]
    assert "codex-ml 0.1.0" in trained and "/data/tiny_corpus.txt" in trained and "abababab" in trained
    assert "records no provenance.json; the names below come from its config.yaml" in trained
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)  # one offline file


def test_report_reads_a_run_with_only_metrics(tmp_path: Path) -> None:
    run = tmp_path / "bare"
    run.mkdir()
    (run / "metrics.jsonl").write_text(json.dumps({"step": 0, "split": "val", "loss": 4.0}) + "\n")
    (run / "eval.json").write_text("{not json")
    proc = codex_ml("report", str(run), "--out", str(tmp_path / "r.html"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "note: bare: eval.json could not be read (JSONDecodeError" in proc.stdout
    page = (tmp_path / "r.html").read_text()
    assert "Validation loss" in page and "No evaluation recorded yet" in page


def test_report_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = codex_ml("report", str(tmp_path / "empty"), "--out", str(tmp_path / "r.html"), cwd=tmp_path)
    assert proc.returncode == 1
    assert f"error: {tmp_path / 'empty'} is not a run folder: it holds none of config.yaml" in proc.stderr
    proc = codex_ml("report", str(tmp_path / "missing"), cwd=tmp_path)
    assert proc.returncode == 1 and f"{tmp_path / 'missing'} is not a folder. Fix:" in proc.stderr
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "report.html").exists()


def test_report_without_runs_is_a_usage_error(tmp_path: Path) -> None:
    proc = codex_ml("report", cwd=tmp_path)
    assert proc.returncode == 2 and "Missing argument 'RUN_DIR'" in proc.stderr
