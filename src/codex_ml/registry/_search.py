"""Ranked search and "did you mean" suggestions."""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs milliseconds to import

from ._names import normalise

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import ClassVar

    from ._entry import Entry

EXACT, PREFIX, SUBSTRING, TEXT, FUZZY = 5, 4, 3, 2, 1


class Bare(tuple):  # type: ignore[type-arg]
    """An entry point seen only by name, for ``search()``: no Entry is built for it."""

    __slots__ = ()
    aliases: tuple[str, ...] = ()
    metadata: ClassVar[dict[str, object]] = {}  # read only: no description, no tags

    @property
    def name(self) -> str:
        return str(self[0])


def rank(query: str, entries: Sequence[Entry], limit: int | None = None) -> list[str]:
    """Names ordered exact > prefix > substring > description/tags > fuzzy."""
    q = normalise(query)
    if not q:
        return []
    scored = [(score(q, e), e.name) for e in entries]
    hits = sorted((-s, normalise(n), n) for s, n in scored if s > 0)
    names = [n for _, _, n in hits]
    return names[:limit] if limit is not None else names


def score(q: str, entry: Entry) -> int:
    keys = [normalise(entry.name), *(normalise(a) for a in entry.aliases)]
    best = max((_name_score(q, k) for k in keys), default=0)
    if best:
        return best
    text = " ".join(_texts(entry)).lower().replace("-", "_")
    if q in text:
        return TEXT
    return FUZZY if close_matches(q, keys, cutoff=0.6) else 0


def _name_score(q: str, key: str) -> int:
    if q == key:
        return EXACT
    if key.startswith(q):
        return PREFIX
    return SUBSTRING if q in key else 0


def _texts(entry: Entry) -> Iterable[str]:
    meta = entry.metadata
    yield str(meta.get("description") or "")
    yield from (str(t) for t in meta.get("tags") or ())


CUTOFF = 0.6  # the one "did you mean" threshold of codex_ml (registries, CLI, config)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x' or 'y'?`` for the closest candidates, or ''."""
    close = close_matches(name, candidates)
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


def close_matches(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = CUTOFF) -> list[str]:
    """Candidates close to ``name``, compared on their normalised keys (case, '-' and '_' alike)."""
    import difflib

    by_key: dict[str, str] = {}
    for cand in candidates:
        by_key.setdefault(normalise(cand), cand)
    key = normalise(name)
    matches = difflib.get_close_matches(key, list(by_key), n=n, cutoff=cutoff)
    # A name typed without its namespace ("tiny-vocab" for "offline:tiny-vocab").
    matches += [k for k in by_key if k.endswith(":" + key) and k not in matches]
    return [by_key[m] for m in matches[:n]]
