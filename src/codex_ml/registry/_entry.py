"""What the registry stores: an entry with its provenance."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

# Where a registration came from decides precedence: in-process code and the
# built-in catalogue outrank plugins, so an installed plugin can never silently
# replace something the user's own code or codex_ml itself registered.
IN_PROCESS = "in-process"
BUILTIN = "built-in"
ENTRY_POINT = "entry-point"
PLUGIN_FILE = "plugin-file"
_RANK = {IN_PROCESS: 2, BUILTIN: 2, ENTRY_POINT: 1, PLUGIN_FILE: 1}

NOT_LOADED: Any = type("NotLoaded", (), {"__repr__": lambda self: "<not loaded>"})()


@dataclass(frozen=True)
class Provenance:
    """Where an entry came from; quoted by every error about it."""

    source: str
    module: str = ""
    qualname: str = ""
    file: str = ""
    line: int = 0
    distribution: str = ""
    dist_version: str = ""
    entry_point: str = ""  # "group:name = module:attr"

    @property
    def rank(self) -> int:
        return _RANK.get(self.source, 1)

    @property
    def is_plugin(self) -> bool:
        return self.source in (ENTRY_POINT, PLUGIN_FILE)

    def __str__(self) -> str:
        if self.source == ENTRY_POINT or (self.source == BUILTIN and self.entry_point):
            dist = f"{self.distribution} {self.dist_version}".strip()
            return f"entry point {self.entry_point} of distribution {dist}"
        where = f"{self.module}:{self.qualname}" if self.qualname else self.module
        loc = f" ({self.file}:{self.line})" if self.file and self.line else ""
        label = {PLUGIN_FILE: "plugin file", BUILTIN: "built-in"}.get(self.source, "")
        if self.source == PLUGIN_FILE:
            return f"plugin file {self.file}" + (f" ({where})" if where else "")
        return f"{label + ' ' if label else ''}{where}{loc}".strip() or self.source

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v not in ("", 0)}
        data["source"] = self.source
        data["summary"] = str(self)
        return data


def caller_location(skip_prefixes: tuple[str, ...] = ("codex_ml.registry",)) -> tuple[str, int]:
    """File and line of the first frame outside the registry machinery."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(skip_prefixes) and module not in _VIEW_MODULES:
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


@dataclass
class Entry:
    """One registered component, possibly not imported yet (``target``)."""

    name: str
    obj: Any
    provenance: Provenance
    factory: bool
    target: str = ""  # "module:attr" for lazy entries
    metadata: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    error: BaseException | None = None
    hook: bool = False  # an entry point that registers others instead of being one

    @property
    def loaded(self) -> bool:
        return self.obj is not NOT_LOADED

    def describe(self) -> str:
        return str(self.provenance)
