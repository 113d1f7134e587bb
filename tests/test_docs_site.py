"""``codex-ml docs build --format html``: the files of the offline site (the browser tests open it)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from test_cli_app_support import clean_env, codex_ml, parsed, with_path
from test_docs_site_support import build_demo_site, local_links, search_index


@pytest.fixture(scope="module")
def site(installed_examples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("site_cwd")
    out = cwd / "site"
    proc = build_demo_site(out, installed_examples, cwd)
    assert proc.returncode == 0, proc.stderr
    return out


def test_index_lists_every_registry_user_kinds_included(site: Path) -> None:
    index = (site / "index.html").read_text()
    for kind in ("agents", "metrics", "models", "tokenizers", "schedulers"):
        assert f'<a href="kinds/{kind}.html">{kind}</a>' in index
        assert (site / "kinds" / f"{kind}.html").is_file()
    assert 'data-name="accuracy@token"' in index and 'data-name="toy_metric"' in index


def test_component_pages_show_provenance_files_and_parameters(site: Path) -> None:
    metrics = (site / "kinds" / "metrics.html").read_text()
    assert "entry point (toy-metric 0.1.0)" in metrics  # a pip-installed distribution
    weighted = metrics.split('id="c-offline-weighted-accuracy"')[1].split("</section>")[0]
    assert "weighted_accuracy</strong>: present at" in weighted
    # A lazy built-in: parameters read from its source, the module not imported.
    token = metrics.split('id="c-accuracy-token"')[1].split("</section>")[0]
    assert "read from its source text, not imported" in token and "<code>ignore_index</code>" in token
    # A plugin-file component is loaded by discovery: its real signature is shown.
    schedulers = (site / "kinds" / "schedulers.html").read_text()
    assert "read from the loaded factory&#39;s signature" in schedulers
    assert "<code>warmup</code>" in schedulers and "plugin file" in schedulers
    models = (site / "kinds" / "models.html").read_text()
    gpt2 = models.split('id="c-gpt2-offline"')[1].split("</section>")[0]
    assert "gpt2</strong>: missing" in gpt2 and "<ol class=\"searched\">" in gpt2


def test_broken_plugin_has_a_page_with_its_cause(site: Path) -> None:
    pages = list((site / "broken").glob("*.html"))
    assert [p.name for p in pages] == ["01-broken_tokenizer.py.html"]
    text = html.unescape(pages[0].read_text())
    assert "ModuleNotFoundError: No module named 'fancy_tokenizer_lib'" in text
    assert "broken_tokenizer.py:5" in text  # where it raised, as doctor says
    assert 'href="broken/01-broken_tokenizer.py.html"' in (site / "index.html").read_text()


def test_diagrams_are_inline_svg(site: Path) -> None:
    index = (site / "index.html").read_text()
    providers = index.split('id="providers"')[1]
    assert "<svg" in providers and "toy-metric 0.1.0" in providers and ">demo_plugins/<" in providers
    agents = (site / "kinds" / "agents.html").read_text()
    graph = agents.split('aria-label="Graph of review-agent"')[1].split("</svg>")[0]
    assert graph.count("<rect") == 5 and ">fails<" in graph and ">Search the catalogue<" in graph


def test_search_index_is_a_script_with_every_component(site: Path) -> None:
    rows = {(r["kind"], r["name"]): r for r in search_index(site)}
    assert ("metrics", "accuracy@token") in rows and ("schedulers", "cosine") in rows
    assert rows[("metrics", "accuracy@token")]["url"] == "kinds/metrics.html#c-accuracy-token"
    assert "accuracy" in rows[("metrics", "accuracy@token")]["tags"]
    assert '<script src="../assets/search-index.js">' in (site / "kinds" / "models.html").read_text()


def test_guides_are_rendered_with_working_links(site: Path) -> None:
    guide = (site / "docs" / "guides" / "entry_points.html").read_text()
    assert 'href="registries.html#your-own-kinds"' in guide
    assert 'id="your-own-kinds"' in (site / "docs" / "guides" / "registries.html").read_text()
    assert "<table>" in guide and '<code class="language-toml">' in guide


def test_every_local_link_resolves(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        for ref in local_links(page):
            path = ref.split("#")[0].split("?")[0]
            if path:
                assert (page.parent / path).resolve().is_file(), f"{page}: broken link {ref}"


def test_no_remote_resources(site: Path) -> None:
    """Nothing the browser loads by itself is remote; a guide may still link to the web."""
    for page in [*site.rglob("*.html"), *site.rglob("*.css"), *site.rglob("*.js")]:
        text = page.read_text()
        assert not re.search(r'src="(?:https?:)?//', text), page
        assert not re.search(r'<link[^>]*href="(?:https?:)?//', text), page
        assert "@import" not in text and "url(http" not in text, page


def test_rebuild_is_identical(site: Path, installed_examples: Path) -> None:
    again = site.parent / "again"
    assert build_demo_site(again, installed_examples, site.parent).returncode == 0
    for page in site.rglob("*"):
        if page.is_file():
            assert (again / page.relative_to(site)).read_bytes() == page.read_bytes(), page


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    proc = codex_ml("docs", "build", "--format", "pdf", "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "--format 'pdf' is not a docs format. Fix: use --format md" in proc.stderr


def test_missing_guides_folder_is_named(tmp_path: Path) -> None:
    proc = codex_ml("docs", "build", "--format", "html", "--guides", "nowhere", "--out", str(tmp_path / "x"),
                    "--json", cwd=tmp_path)
    assert proc.returncode == 1
    assert parsed(proc)["error"].startswith("--guides nowhere: no such folder. Fix:")
    markdown = codex_ml("docs", "build", "--guides", "nowhere", "--out", str(tmp_path / "y"), cwd=tmp_path)
    assert markdown.returncode == 2 and "--guides nowhere: only the html site includes the guides" in markdown.stderr
    assert not (tmp_path / "y").exists()


def guides_folder(root: Path) -> Path:
    docs = root / "guides"
    (docs / "more").mkdir(parents=True)
    (docs / "images").mkdir()
    (docs / "images" / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (docs / "index.md").write_text(
        "# Start here\n\nSee [the part](more/part.md#second-part), [the readme](../README.md), "
        "[the web](https://example.org/x) and ![a shot](images/shot.png).\n")
    (docs / "more" / "part.md").write_text("# Part\n\n## Second part\n\nBack to [the start](../index.md).\n")
    return docs


def test_own_guides_folder_links_and_images(tmp_path: Path) -> None:
    docs = guides_folder(tmp_path)
    out = tmp_path / "site"
    proc = codex_ml("docs", "build", "--format", "html", "--guides", str(docs), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    start = (out / "docs" / "index.html").read_text()
    assert '<a href="more/part.html#second-part">the part</a>' in start
    assert "the readme" in start and "README" not in start  # outside the guides: kept as text
    assert 'href="https://example.org/x"' in start and 'src="images/shot.png"' in start
    assert (out / "docs" / "images" / "shot.png").is_file()
    part = (out / "docs" / "more" / "part.html").read_text()
    assert 'id="second-part"' in part and 'href="../index.html"' in part


def test_without_markdown_guides_are_plain_text_and_without_jinja_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "markdown.py").write_text("raise ImportError('markdown is not installed (test)')\n")
    env = with_path(clean_env(), blocked)
    out = tmp_path / "site"
    proc = codex_ml("docs", "build", "--format", "html", "--guides", str(guides_folder(tmp_path)),
                    "--out", str(out), cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert '<pre class="plain-guide"># Start here' in (out / "docs" / "index.html").read_text()
    (blocked / "jinja2.py").write_text("raise ImportError('jinja2 is not installed (test)')\n")
    proc = codex_ml("docs", "build", "--format", "html", "--out", str(out), cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert "the HTML output needs Jinja2, which is not installed. Fix: pip install 'codex-ml[docs]'" in proc.stderr


def test_hook_plugins_are_listed_and_run_only_with_resolve(site: Path, installed_examples: Path) -> None:
    metrics = html.unescape((site / "kinds" / "metrics.html").read_text())
    assert "<code>weighted</code> = <code>toy_metric.hooks:register</code> (toy-metric 0.1.0): not run" in metrics
    assert "toy_weighted_accuracy" not in metrics  # the hook was not imported for the docs
    resolved = site.parent / "resolved"
    assert build_demo_site(resolved, installed_examples, site.parent, "--resolve").returncode == 0
    metrics = html.unescape((resolved / "kinds" / "metrics.html").read_text())
    section = metrics.split('id="c-toy_weighted_accuracy"')[1].split("</section>")[0]
    assert "accuracy with per-item weights" in section and "<code>predictions</code>" in section
    assert "(toy-metric 0.1.0): ran" in metrics
