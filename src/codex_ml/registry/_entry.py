"""What the registry stores: an entry with its provenance.

Plain ``__slots__`` classes, not dataclasses: ``dataclasses`` imports
``inspect`` and ``re``, which alone would triple the core's import time.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself costs milliseconds to import

if TYPE_CHECKING:
    from typing import Any

# Where a registration came from decides precedence: in-process code and the
# built-in catalogue outrank plugins, so an installed plugin can never silently
# replace something the user's own code or codex_ml itself registered.
IN_PROCESS = "in-process"
BUILTIN = "built-in"
ENTRY_POINT = "entry-point"
PLUGIN_FILE = "plugin-file"
_RANK = {IN_PROCESS: 2, BUILTIN: 2, ENTRY_POINT: 1, PLUGIN_FILE: 1}


class _NotLoaded:
    def __repr__(self) -> str:
        return "<not loaded>"


NOT_LOADED: Any = _NotLoaded()

_PROVENANCE_FIELDS = ("source", "module", "qualname", "file", "line", "distribution", "dist_version", "entry_point")
# Where two fields sit in the tuple, for loops over every entry that cannot afford a property call.
DIST_VERSION_AT, ENTRY_POINT_AT = _PROVENANCE_FIELDS.index("dist_version"), _PROVENANCE_FIELDS.index("entry_point")


class Provenance(tuple):  # type: ignore[type-arg]
    """Where an entry came from; quoted by every error about it.

    A tuple underneath (immutable, hashable, cheap to build: discovery makes
    one per installed entry point).
    """

    __slots__ = ()

    def __new__(cls, source: str, module: str = "", qualname: str = "", file: str = "", line: int = 0,
                distribution: str = "", dist_version: str = "", entry_point: str = "") -> Provenance:
        return tuple.__new__(cls, (source, module, qualname, file, line, distribution, dist_version, entry_point))

    @property
    def source(self) -> str:
        return str(self[0])

    @property
    def module(self) -> str:
        return str(self[1])

    @property
    def qualname(self) -> str:
        return str(self[2])

    @property
    def file(self) -> str:
        return str(self[3])

    @property
    def line(self) -> int:
        return int(self[4])

    @property
    def distribution(self) -> str:
        return str(self[5])

    @property
    def dist_version(self) -> str:
        return str(self[6])

    @property
    def entry_point(self) -> str:
        """``group:name = module:attr`` for entry points."""
        return str(self[7])

    def __repr__(self) -> str:
        return f"Provenance({str(self)!r})"

    def replace(self, **changes: Any) -> Provenance:
        values = dict(zip(_PROVENANCE_FIELDS, self))
        values.update(changes)
        return Provenance(**values)

    @property
    def rank(self) -> int:
        return _RANK.get(self.source, 1)

    @property
    def is_plugin(self) -> bool:
        return self.source in (ENTRY_POINT, PLUGIN_FILE)

    def __str__(self) -> str:
        if self.entry_point:
            dist = f"{self.distribution} {self.dist_version}".strip()
            return f"entry point {self.entry_point} " + (f"of distribution {dist}" if dist else "(distribution unknown)")
        where = f"{self.module}:{self.qualname}" if self.qualname else self.module
        if self.source == PLUGIN_FILE:
            return f"plugin file {self.file}" + (f" ({where})" if where else "")
        loc = f" ({self.file}:{self.line})" if self.file and self.line else ""
        label = "built-in " if self.source == BUILTIN else ""
        return f"{label}{where}{loc}".strip() or self.source

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in zip(_PROVENANCE_FIELDS, self) if v not in ("", 0)}
        data["source"] = self.source
        data["summary"] = str(self)
        return data


def caller_location() -> tuple[str, int]:
    """File and line of the first frame outside the registry machinery."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("codex_ml.registry") and module not in _VIEW_MODULES:
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return "", 0


# Thin re-export modules of the seeds; a call through them is still the user's.
_VIEW_MODULES = frozenset(
    {"codex_ml.models.loader_registry", "codex_ml.metrics.registry", "codex_ml.plugins.registries"}
)


def object_provenance(obj: Any, source: str = IN_PROCESS) -> Provenance:
    """Provenance of an object registered by a direct call or decorator."""
    module = getattr(obj, "__module__", None) or type(obj).__module__
    qualname = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    file, line = caller_location()
    return Provenance(source, module=str(module), qualname=str(qualname), file=file, line=line)


class Entry:
    """One registered component, possibly not imported yet (``target``)."""

    __slots__ = ("name", "obj", "provenance", "factory", "target", "metadata", "aliases")

    def __init__(self, name: str, obj: Any, provenance: Provenance, factory: bool, target: str = "",
                 metadata: dict[str, Any] | None = None, aliases: tuple[str, ...] = ()) -> None:
        self.name = name
        self.obj = obj
        self.provenance = provenance
        self.factory = factory
        self.target = target  # "module:attr" for lazy entries
        self.metadata: dict[str, Any] = metadata if metadata is not None else {}
        self.aliases = aliases

    @property
    def loaded(self) -> bool:
        return self.obj is not NOT_LOADED

    def copy(self) -> Entry:
        return Entry(self.name, self.obj, self.provenance, self.factory, self.target,
                     dict(self.metadata), self.aliases)

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else f"lazy {self.target}"
        return f"<Entry {self.name!r} ({state}) from {self.provenance}>"
