"""The main job, exactly as the README runs it: `codex-ml train`, then `codex-ml evaluate`."""
from __future__ import annotations

# ruff: noqa: F811  (pytest fixtures come from test_training_support by import)
import json
import re
from pathlib import Path

import pytest
from test_training_support import cli, ok, records, workdir  # noqa: F401

pytest.importorskip("torch")


def test_default_config_trains_and_perplexity_falls_by_a_third(workdir: Path) -> None:
    result = ok(cli(["train"], workdir))  # no arguments: the default config, 200 steps
    found = re.search(r"^wrote (runs/\d{8}-\d{6}):", result.stdout, re.MULTILINE)
    assert found, result.stdout
    run = workdir / found.group(1)
    val = records(run, "val")
    first, last = val[0]["perplexity"], val[-1]["perplexity"]
    assert val[0]["step"] == 0 and val[-1]["step"] == 200
    assert last <= 0.7 * first, (first, last)
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-000200"
    assert "val perplexity" in result.stdout  # the final table

    report = ok(cli(["evaluate", f"run_dir={found.group(1)}"], workdir))
    (written,) = (run / "evals").glob("*.json")
    evaluation = json.loads(written.read_text())
    assert evaluation["metrics"]["perplexity"] == pytest.approx(last, rel=1e-4)
    assert f"wrote {found.group(1)}/evals/{written.name}" in report.stdout
