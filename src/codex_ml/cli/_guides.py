"""The Markdown guides of ``docs/`` as pages of the HTML catalogue.

Python-Markdown (the ``docs`` extra, the converter MkDocs uses) renders them
with tables, fenced code and heading anchors that match GitHub's, so links
like ``registries.md#your-own-kinds`` keep working once ``.md`` becomes
``.html``. Without it each guide is shown as preformatted text. Links to
files outside the guides folder are kept as text: they would not resolve in
a copied site.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import codex_ml

from ._kinds import CliError

_HREF = re.compile(r'(<(?:a|img)\b[^>]*?\b(?:href|src)=")([^"]*)("[^>]*>)')
_TITLE = re.compile(r"^#\s+(.+)$", re.MULTILINE)


def find_guides(explicit: str | None) -> Path | None:
    """The folder of guides: ``--guides``, else ``./docs``, else the source checkout's ``docs/``."""
    if explicit:
        path = Path(explicit)
        if not path.is_dir():
            raise CliError(f"--guides {explicit}: no such folder. Fix: pass the folder holding the "
                           "Markdown guides (the repository's docs/), or leave --guides out.")
        return path
    here = Path(codex_ml.__file__).resolve().parents[2] / "docs"
    for candidate in (Path("docs"), here):
        if (candidate / "index.md").is_file():
            return candidate
    return None


def guide_files(root: Path) -> list[Path]:
    """Every ``.md`` under ``root`` (index first), as paths relative to it."""
    files = sorted(p.relative_to(root) for p in root.rglob("*.md") if p.is_file())
    return sorted(files, key=lambda p: (p.as_posix() != "index.md", len(p.parts), p.as_posix()))


def assets(pages: list[dict[str, Any]]) -> list[str]:
    """Files other than guides that the pages link to or show (copied as they are)."""
    return sorted({t for page in pages for t in page["uses"] if not t.endswith(".md")})


def render(root: Path, rel: Path, known: set[str]) -> dict[str, Any]:
    """``{"title", "html", "path"}`` of one guide; links rewritten for the site."""
    text = read_inside(root, rel).decode("utf-8", errors="replace")
    match = _TITLE.search(text)
    title = match.group(1).strip() if match else rel.stem
    uses: list[str] = []
    body = unlink_missing(_HREF.sub(lambda m: m.group(1) + _link(m.group(2), rel, known, uses) + m.group(3),
                                    to_html(text)))
    return {"title": title, "html": body, "path": "docs/" + rel.with_suffix(".html").as_posix(),
            "source": rel.as_posix(), "uses": uses}


def to_html(text: str) -> str:
    try:
        import markdown  # type: ignore[import-untyped,unused-ignore]  # the docs extra; no stubs needed
    except ImportError:
        return f'<pre class="plain-guide">{html.escape(text)}</pre>'
    converter = markdown.Markdown(extensions=["tables", "fenced_code", "toc", "sane_lists"],
                                  extension_configs={"toc": {"slugify": github_slug}}, output_format="html")
    # Raw HTML in a guide is shown as text, never run: a guide may come from a folder of the
    # working directory, and the site is opened in a browser (comments are dropped).
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return str(converter.convert(drop_comment_lines(text)))


def drop_comment_lines(text: str) -> str:
    """Lines that are only an HTML comment (``<!-- norun: ... -->`` markers), outside code blocks."""
    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced or not re.fullmatch(r"\s*<!--.*-->\s*", line):
            out.append(line)
    return "".join(out)


def github_slug(value: str, separator: str = "-") -> str:
    """Heading anchors as GitHub makes them: lower case, punctuation dropped, spaces to ``-``."""
    text = re.sub(r"<[^>]+>", "", html.unescape(value)).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", separator)


def _link(url: str, rel: Path, known: set[str], uses: list[str]) -> str:
    """A guide's link as the site needs it (``uses`` collects its target); "" when it cannot resolve."""
    parts = urlsplit(html.unescape(url))
    if parts.scheme and parts.scheme.lower() not in ("http", "https", "mailto"):
        return ""  # javascript:, data:, file: ... never become a link of the site
    if parts.scheme or parts.netloc or url.startswith("#") or not parts.path:
        return url
    target = posixpath.normpath(posixpath.join(rel.parent.as_posix(), parts.path))
    if target.startswith("..") or target not in known:
        return ""
    uses.append(target)
    if target.endswith(".md"):
        target = target[:-3] + ".html"
    new = posixpath.relpath(target, rel.parent.as_posix() or ".")
    return html.escape(new + (f"#{parts.fragment}" if parts.fragment else ""))


def unlink_missing(body: str) -> str:
    """``<a href="">text</a>`` (a link outside the guides) becomes plain text."""
    return re.sub(r'<a\b[^>]*\bhref=""[^>]*>(.*?)</a>', r"\1", body, flags=re.DOTALL)


def known_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def relative_root(page: str) -> str:
    """``../`` repeated to climb from ``page`` back to the site's root."""
    depth = page.count("/")
    return "../" * depth if depth else "./"


def read_inside(root: Path, rel: Path | str) -> bytes:
    """The bytes of a guide or asset: a file no other account could have put there or changed.

    What is read here is published in the site. The guides folder was checked
    already; a link in it is the user's own, and leads to a file that must be
    safe too (another account's link, or one to its file, is refused).
    """
    from codex_ml.registry import _fsafe
    from codex_ml.registry._errors import UnsafeFileError

    path = root / rel
    problem = _fsafe.check(path) or ("" if path.is_file() else "it is not a regular file")
    if problem:  # a link is followed: its owner, and every folder to its target, are checked
        raise UnsafeFileError(str(path), problem, fix="keep the guides and the files they show as files of "
                              "your own, in folders only you (or root) can write")
    return path.read_bytes()
