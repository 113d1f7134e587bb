"""The built site and a run report, opened in a real headless Chromium (Selenium).

Skipped, with the reason, only when no browser or driver can be found; CI
(``.ci/run``) installs Debian's chromium and chromium-driver where missing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import _prewarm
import pytest
from test_cli_app_support import clean_env, codex_ml
from test_docs_site_support import (
    NO_BROWSER,
    build_demo_site,
    console_errors,
    find_browser,
    open_browser,
    requested_urls,
)

pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[dev]')")
if find_browser() is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)

from selenium.webdriver.common.by import By

KINDS = {"agents", "data_loaders", "loggers", "metrics", "models", "pipelines", "prompts", "reward_models",
         "rl_agents", "schedulers", "tokenizers", "tools", "trainers"}


@pytest.fixture(scope="module")
def site(installed_examples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("browser_site")
    proc = build_demo_site(cwd / "site", installed_examples, cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd / "site"


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    browser = open_browser()
    try:
        yield browser
    finally:
        browser.quit()


# Every link of the page, resolved (SVG links included: their .href is not a string).
LINKS = ("return [...document.querySelectorAll('a[href]')]"
         ".map(a => new URL(a.getAttribute('href'), document.baseURI).href)")


def visible(driver: Any, name: str) -> bool:
    return bool(driver.find_element(By.CSS_SELECTOR, f'[data-name="{name}"]').is_displayed())


def test_index_lists_every_registry(driver: Any, site: Path) -> None:
    driver.get((site / "index.html").as_uri())
    kinds = {a.text for a in driver.find_elements(By.CSS_SELECTOR, "table.registries td:first-child a")}
    assert kinds == KINDS
    assert visible(driver, "accuracy@token") and visible(driver, "decoder_only")
    assert console_errors(driver) == []


def test_typing_accuracy_filters_the_components(driver: Any, site: Path) -> None:
    driver.get((site / "index.html").as_uri())
    box = driver.find_element(By.ID, "search")
    box.send_keys("accuracy")
    assert visible(driver, "accuracy@token") and visible(driver, "offline:weighted-accuracy")
    assert not visible(driver, "decoder_only") and not visible(driver, "cosine")
    assert driver.find_element(By.ID, "match-count").text.startswith("2 of ")
    box.clear()
    box.send_keys("lr warmup")  # every word must match: name, tags or description
    assert visible(driver, "cosine") and not visible(driver, "constant")


def test_query_string_opens_with_the_search_applied(driver: Any, site: Path) -> None:
    driver.get((site / "index.html").as_uri() + "?q=accuracy")
    assert driver.find_element(By.ID, "search").get_attribute("value") == "accuracy"
    assert visible(driver, "accuracy@token") and not visible(driver, "decoder_only")
    driver.get((site / "kinds" / "metrics.html").as_uri() + "?q=squad")
    assert visible(driver, "f1") and not visible(driver, "accuracy@token")


def test_search_from_a_guide_lists_hits_that_lead_to_the_component(driver: Any, site: Path) -> None:
    driver.get((site / "docs" / "guides" / "cli.html").as_uri())
    driver.find_element(By.ID, "search").send_keys("accuracy")
    hits = driver.find_elements(By.CSS_SELECTOR, "#search-results a.hit")
    names = [h.find_element(By.CLASS_NAME, "name").text for h in hits]
    assert "accuracy@token" in names and "decoder_only" not in names
    hits[names.index("accuracy@token")].click()
    assert driver.current_url.endswith("kinds/metrics.html#c-accuracy-token")
    assert driver.find_element(By.ID, "c-accuracy-token").is_displayed()


def test_diagrams_render_as_svg(driver: Any, site: Path) -> None:
    driver.get((site / "index.html").as_uri())
    svg = driver.find_element(By.CSS_SELECTOR, "#providers svg")
    assert svg.size["width"] >= 1000 and svg.size["height"] > 300
    assert len(svg.find_elements(By.CSS_SELECTOR, "path")) >= 30  # one edge per component
    driver.get((site / "kinds" / "agents.html").as_uri())
    graph = driver.find_element(By.CSS_SELECTOR, "svg.graph")
    assert len(graph.find_elements(By.CSS_SELECTOR, "rect")) == 5 and graph.size["height"] > 300


def test_every_local_link_resolves_and_nothing_leaves_the_machine(driver: Any, site: Path) -> None:
    requested_urls(driver)  # drop what earlier tests asked for
    start = (site / "index.html").as_uri()
    ids: dict[str, set[str]] = {}
    anchors: set[tuple[str, str, str]] = set()
    queue = [start]
    while queue:
        page = queue.pop()
        driver.get(page)
        assert console_errors(driver) == [], page
        ids[page] = set(driver.execute_script("return [...document.querySelectorAll('[id]')].map(e => e.id)"))
        for href in driver.execute_script(LINKS):
            parts = urlsplit(href)
            if parts.scheme != "file":
                continue
            target = Path(unquote(parts.path))
            assert target.is_file(), f"{page}: link to a missing file {href}"
            if parts.fragment:
                anchors.add((target.as_uri(), unquote(parts.fragment), page))
            if target.suffix == ".html" and target.as_uri() not in ids and target.as_uri() not in queue:
                queue.append(target.as_uri())
    assert len(ids) == len(list(site.rglob("*.html")))  # every page is reachable from the index
    for url, fragment, source in sorted(anchors):
        assert fragment in ids[url], f"{source}: no #{fragment} in {url}"
    asked = requested_urls(driver)
    assert asked and all(u.startswith(("file://", "data:")) for u in asked), \
        [u for u in asked if not u.startswith(("file://", "data:"))]


# ----------------------------------------------------------------- report
@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two real, tiny training runs (different learning rates), trained side by side."""
    root = tmp_path_factory.mktemp("report_runs")
    common = ["training.max_steps=8", "training.eval_interval=4", "training.log_interval=2",
              "training.eval_batches=2", "model.kwargs.d_model=32", "model.kwargs.n_layers=1",
              "evaluate.num_samples=2", f"training.output_dir={root}"]
    procs = [subprocess.Popen(_prewarm.argv("train", f"training.learning_rate={lr}", f"training.run_name=lr{lr}",
                                            *common), env=clean_env(), cwd=root, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for lr in ("0.002", "0.008")]
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out
    return [root / "lr0.002", root / "lr0.008"]


def test_report_in_the_browser(driver: Any, runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    proc = codex_ml("report", *map(str, runs), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    requested_urls(driver)
    driver.get(out.as_uri())
    charts = driver.find_elements(By.CSS_SELECTOR, "#curves svg")
    titles = [c.get_attribute("aria-label") for c in charts]
    assert titles[:3] == ["Training loss", "Validation loss", "Validation perplexity"]
    for chart in charts:
        assert chart.size["width"] > 400
        assert len(chart.find_elements(By.CSS_SELECTOR, "polyline")) == 2  # both runs overlaid
    diff = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#config td:first-child")]
    assert "training.learning_rate" in diff and "training.max_steps" not in diff
    assert len(driver.find_elements(By.CSS_SELECTOR, "#samples .sample")) == 4
    assert driver.find_elements(By.CSS_SELECTOR, "#evaluations tbody tr")
    assert console_errors(driver) == []
    assert all(u.startswith(("file://", "data:")) for u in requested_urls(driver))


def test_the_network_check_sees_a_remote_request(driver: Any, tmp_path: Path) -> None:
    """The log the tests read does record a request that would leave the machine."""
    page = tmp_path / "remote.html"
    page.write_text('<!DOCTYPE html><title>x</title><img src="http://example.invalid/cdn.png">')
    requested_urls(driver)
    driver.get(page.as_uri())
    assert "http://example.invalid/cdn.png" in requested_urls(driver)
    assert any("example.invalid" in m for m in console_errors(driver))  # and the console shows it
