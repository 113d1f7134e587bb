"""Helpers of the HTML site and report tests (no tests here): real builds, real files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from test_cli_app_support import clean_env, codex_ml, with_path

REPO = Path(__file__).resolve().parents[1]
DEMO_PLUGINS = REPO / "scripts" / "site_demo" / "plugins"


def build_demo_site(out: Path, examples: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``codex-ml docs build --format html`` with the example distributions and the demo plugin folder."""
    plugins = cwd / "demo_plugins"
    if not plugins.exists():
        shutil.copytree(DEMO_PLUGINS, plugins)  # a private copy: the folder must not be group-writable
    env = with_path(clean_env(CODEX_ML_PLUGIN_PATH=str(plugins)), examples)
    return codex_ml("docs", "build", "--format", "html", "--out", str(out), *extra, cwd=cwd, env=env)


def search_index(site: Path) -> list[dict[str, Any]]:
    """The rows of ``assets/search-index.js`` (a script assigning one JSON array)."""
    text = (site / "assets" / "search-index.js").read_text()
    return list(json.loads(text.split("=", 1)[1].strip().rstrip(";")))


def local_links(page: Path) -> list[str]:
    """Every href/src of ``page`` that is not an external URL or a pure fragment."""
    refs = re.findall(r'(?:href|src)="([^"]*)"', page.read_text())
    return [r for r in refs if not re.match(r"^[a-z]+:", r) and not r.startswith("#")]


# ----------------------------------------------------------------- browser
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NO_BROWSER = ("no headless browser found: the browser tests need Debian's chromium and chromium-driver "
              "(apt-get install -y chromium chromium-driver; .ci/run installs them) and selenium "
              "(the dev extra)")


def find_browser() -> tuple[str, str] | None:
    """``(browser, chromedriver)`` paths, or None when either is missing."""
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def open_browser(width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium driven by Selenium, logging console and network events.

    The driver path is given explicitly: Selenium Manager would otherwise try
    to download one. Background networking is off and every host name
    resolves nowhere, so nothing can leave the machine even by mistake; the
    tests still check the network log to prove the pages asked for nothing.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise RuntimeError(NO_BROWSER)
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-sync", "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=found[1]))


def requested_urls(driver: Any) -> list[str]:
    """URLs the pages asked for since the last call (from the DevTools network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
