"""Refresh the screenshots in docs/images/ (shown in the README) from a real build.

    python scripts/screenshots.py                   # trains two small runs for the report
    python scripts/screenshots.py --runs runs/a runs/b

It builds the HTML catalogue the way a user would, with the example
distributions of examples/plugins pip-installed into a temporary folder and
the demo plugin folder scripts/site_demo/plugins (a kind of its own, an agent
graph, a broken plugin); trains two runs unless --runs names some; writes a
report; and photographs them in headless Chromium at 1280 px wide. Needs
chromium, chromium-driver and selenium (see tests/test_docs_site_browser.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_cli_app_support import clean_env, codex_ml
from test_docs_site_support import build_demo_site, open_browser

IMAGES = REPO / "docs" / "images"
TRAIN = ["training.max_steps=60", "training.eval_interval=10", "training.log_interval=5",
         "training.eval_batches=4", "model.kwargs.d_model=64", "evaluate.num_samples=3"]


def install_examples(target: Path) -> Path:
    for project in sorted((REPO / "examples" / "plugins").iterdir()):
        if (project / "pyproject.toml").exists():
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                            "--no-build-isolation", "--target", str(target), str(project)],
                           check=True, capture_output=True)
    return target


def train_runs(root: Path) -> list[Path]:
    """Two runs that differ in learning rate, trained side by side."""
    procs = [subprocess.Popen([sys.executable, "-m", "codex_ml.cli.app", "train", *TRAIN,
                               f"training.learning_rate={lr}", f"training.run_name=lr-{lr}",
                               f"training.output_dir={root}"], cwd=root, env=clean_env(),
                              stdout=subprocess.DEVNULL)
             for lr in ("0.002", "0.006")]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit("training failed; run `codex-ml train` to see why")
    return [Path("lr-0.002"), Path("lr-0.006")]  # relative to root, where the report runs


def shoot(driver: Any, url: str, name: str, height: int, *, scroll_to: str = "", typed: str = "") -> Path:
    from selenium.webdriver.common.by import By

    driver.set_window_size(1280, height)
    driver.get(url)
    if typed:
        driver.find_element(By.ID, "search").send_keys(typed)
    if scroll_to:
        driver.execute_script(f"document.querySelector({scroll_to!r}).scrollIntoView()")
        driver.execute_script("window.scrollBy(0, -110)")  # the heading too, below the sticky header
    time.sleep(0.3)
    path = IMAGES / name
    driver.save_screenshot(str(path))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="*", help="run folders for the report (default: train two)")
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc = build_demo_site(work / "site", install_examples(work / "eps"), work)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        runs = [Path(r).resolve() for r in args.runs] if args.runs else train_runs(work)
        report = work / "report.html"
        proc = codex_ml("report", *map(str, runs), "--out", str(report), cwd=work)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        site = work / "site"
        driver = open_browser()
        try:
            shots = [shoot(driver, (site / "index.html").as_uri(), "site-index.png", 900),
                     shoot(driver, (site / "index.html").as_uri(), "site-search.png", 700, typed="accuracy",
                           scroll_to="#components"),
                     shoot(driver, (site / "kinds" / "metrics.html").as_uri(), "site-kind.png", 900),
                     shoot(driver, (site / "index.html").as_uri(), "site-diagram.png", 1000,
                           scroll_to="#providers"),
                     shoot(driver, (site / "kinds" / "agents.html").as_uri(), "site-agent-graph.png", 900,
                           scroll_to="svg.graph"),
                     shoot(driver, report.as_uri(), "report.png", 1100)]
        finally:
            driver.quit()
    for path in shots:
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
