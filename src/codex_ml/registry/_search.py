"""Ranked search and "did you mean" suggestions."""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs milliseconds to import

from ._names import normalise

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import ClassVar

    from ._entry import Entry

EXACT, PREFIX, SUBSTRING, FUZZY = 4, 3, 2, 1
NAME, OTHER = 1, 0  # at one level, a name or alias ranks before a tag or the description


class Bare(tuple):  # type: ignore[type-arg]
    """An entry point seen only by name, for ``search()``: no Entry is built for it."""

    __slots__ = ()
    aliases: tuple[str, ...] = ()
    metadata: ClassVar[dict[str, object]] = {}  # read only: no description, no tags

    @property
    def name(self) -> str:
        return str(self[0])


def rank(query: str, entries: Sequence[Entry], limit: int | None = None) -> list[str]:
    """Names ordered exact > prefix > substring > fuzzy, over name, aliases, tags and description.

    At one level a name or alias comes before a tag or the description; fuzzy
    matches come closest first; ties go by name.
    """
    q = normalise(query)
    if not q:
        return []
    scored = [(score(q, e), e.name) for e in entries]
    hits = sorted((tuple(-x for x in s), normalise(n), n) for s, n in scored if s[0] > 0)
    names = [n for _, _, n in hits]
    return names[:limit] if limit is not None else names


def score(q: str, entry: Entry) -> tuple[int, int, float]:
    """(level, NAME or OTHER, closeness): larger is better; level 0 is no match."""
    keys = [normalise(entry.name), *(normalise(a) for a in entry.aliases)]
    by_name = max((_name_score(q, k) for k in keys), default=0)
    tags = [normalise(str(t)) for t in entry.metadata.get("tags") or ()]
    by_tag = max((_name_score(q, t) for t in tags), default=0)
    if by_name and by_name >= by_tag:
        return by_name, NAME, 0.0
    if by_tag:
        return by_tag, OTHER, 0.0
    if q in str(entry.metadata.get("description") or "").lower().replace("-", "_"):
        return SUBSTRING, OTHER, 0.0
    closeness = max((_closeness(q, k) for k in keys), default=0.0)
    return (FUZZY, NAME, closeness) if closeness >= CUTOFF else (0, 0, 0.0)


def _name_score(q: str, key: str) -> int:
    if q == key:
        return EXACT
    if key.startswith(q):
        return PREFIX
    return SUBSTRING if q in key else 0


def _closeness(q: str, key: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, q, key).ratio()


CUTOFF = 0.6  # the one "did you mean" threshold of codex_ml (registries, CLI, config)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x' or 'y'?`` for the closest candidates, or ''."""
    close = close_matches(name, candidates)
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


def close_matches(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = CUTOFF) -> list[str]:
    """Candidates close to ``name``, best first, compared on their normalised keys (case, '-' and '_' alike)."""
    by_key: dict[str, str] = {}
    for cand in candidates:
        by_key.setdefault(normalise(cand), cand)
    key = normalise(name)
    scored = sorted((-suggestion_score(key, k, cutoff), k) for k in by_key)
    return [by_key[k] for s, k in scored[:n] if s < 0]


def suggestion_score(key: str, candidate: str, cutoff: float = CUTOFF) -> float:
    """How good ``candidate`` is as a suggestion for the mistyped ``key`` (both normalised); 0: none.

    The name without its namespace ("tiny_vocab" for "offline:tiny_vocab") and the
    start of a name ("gpt2" for "gpt2_offline") rank above any misspelling; a
    misspelling counts from ``cutoff`` closeness up, closest first.
    """
    if not key:
        return 0.0
    if key == candidate:
        return 4.0
    if candidate.endswith(":" + key):
        return 3.0
    if len(key) >= 3 and candidate.startswith(key):
        return 2.0 + len(key) / len(candidate)
    closeness = _closeness(key, candidate)
    return closeness if closeness >= cutoff else 0.0
