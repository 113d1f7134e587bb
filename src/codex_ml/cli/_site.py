"""``docs build --format html``: the catalogue as a static site that works from ``file://``.

Pages come from Jinja2 templates in ``site/templates`` (package data), the
stylesheet and script from ``site/static``. The search index is written as a
``.js`` file that the pages load with a ``<script>`` tag: browsers refuse
``fetch()`` of a JSON file from ``file://``, and a script tag is not a fetch.
Diagrams are inline SVG drawn here, so they show without JavaScript.
Nothing time-dependent is written, so an unchanged environment rebuilds to
identical files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import _guides, _sitedata, _svg
from ._kinds import CliError

SITE = Path(__file__).parent / "site"
STATIC = ("site.css", "site.js")


def environment(templates: Path = SITE / "templates") -> Any:
    """A Jinja2 environment over the package's templates (HTML-escaping everything)."""
    try:
        import jinja2
    except ImportError:
        raise CliError("the HTML output needs Jinja2, which is not installed. Fix: pip install "
                       "'codex-ml[docs]' (or use --format md).") from None
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.globals["version"] = _version()
    env.filters["slug"] = _sitedata.slug
    return env


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("codex-ml")
    except PackageNotFoundError:
        return "unknown"


class Writer:
    """Writes the site's files under one folder; each error names the file and the fix."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []

    def text(self, rel: str, content: str) -> None:
        self.bytes(rel, content.encode("utf-8"))

    def bytes(self, rel: str, content: bytes) -> None:
        from codex_ml.registry._errors import UnsafeFileError
        from codex_ml.utils.outputs import write_output

        path = self.out / rel
        try:
            write_output(path, content, "--out")
        except UnsafeFileError:
            raise  # a folder another account could change: the refusal says why
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}. Fix: pass a writable "
                           "folder with --out.") from None
        self.written.append(path)


def build_site(out: str, guides: str | None = None, resolve: bool = False) -> list[Path]:
    """Write the whole site into ``out``; return the files written."""
    env = environment()
    data = _sitedata.collect(resolve)
    writer = Writer(Path(out))
    docs = guide_pages(writer, guides)
    common = {"registries": data["registries"], "broken": data["broken"], "guides": docs,
              "total": data["total"]}
    _page(env, writer, "index.html", "index.html", common, title="Component catalogue", data=data,
          providers=_svg.provider_diagram(data["providers"], data["registries"]))
    for kind in data["registries"]:
        for e in kind["entries"]:
            e["diagram"] = _svg.graph_diagram(e["graph"]) if e["graph"] else None
        _page(env, writer, kind["page"], "kind.html", common, title=kind["kind"], reg=kind)
    for row in data["broken"]:
        _page(env, writer, row["page"], "broken.html", common, title=row["title"], row=row)
    for doc in docs:
        _page(env, writer, doc["path"], "guide.html", common, title=doc["title"], doc=doc)
    for name in STATIC:
        writer.bytes(f"assets/{name}", (SITE / "static" / name).read_bytes())
    writer.text("assets/search-index.js", search_index(data["registries"]))
    return writer.written


def _page(env: Any, writer: Writer, rel: str, template: str, common: dict[str, Any], **extra: Any) -> None:
    html = env.get_template(template).render(**common, **extra, page=rel,
                                             root=_guides.relative_root(rel))
    writer.text(rel, html)


def guide_pages(writer: Writer, explicit: str | None) -> list[dict[str, Any]]:
    """The guides rendered (their pages are written by the caller); the files they show copied now."""
    root = _guides.find_guides(explicit)
    if root is None:
        return []
    from codex_ml.catalogue.integrity import require_safe_tree

    require_safe_tree(root)  # guides another account could change would publish its pages and files
    known = _guides.known_files(root)
    pages = [_guides.render(root, rel, known) for rel in _guides.guide_files(root)]
    for rel in _guides.assets(pages):
        writer.bytes(f"docs/{rel}", _guides.read_inside(root, rel))
    return pages


def search_index(kinds: list[dict[str, Any]]) -> str:
    """``window.CODEX_ML_INDEX``: one row per component (name, kind, tags, description, URL)."""
    rows = [{"name": e["name"], "kind": k["kind"], "tags": e["tags"], "aliases": e["aliases"],
             "description": e.get("description") or "", "source": e["source_label"],
             "url": f"{k['page']}#{e['anchor']}"} for k in kinds for e in k["entries"]]
    body = json.dumps(rows, indent=1, ensure_ascii=True, sort_keys=True).replace("</", "<\\/")
    return f"// generated by `codex-ml docs build`; loaded by site.js\nwindow.CODEX_ML_INDEX = {body};\n"
