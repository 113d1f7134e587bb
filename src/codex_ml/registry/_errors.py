"""The one exception tree of codex_ml's registries.

Each error is rooted in the builtin it really is, carries its data as
attributes and builds its message from them, so callers can catch the builtin
(``KeyError``, ``ValueError`` ...) or the registry-specific class.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs milliseconds to import

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "InterfaceError",
    "InvalidNameError",
    "PluginWarning",
    "RegistryCollisionError",
    "RegistryError",
    "RegistryLoadError",
    "ToolSignatureError",
    "UnknownComponentError",
    "UnsafeFileError",
]


class RegistryError(Exception):
    """Base of every error raised by a codex_ml registry."""


class InvalidNameError(RegistryError, ValueError):
    """A component name holds a character that is not allowed."""

    def __init__(self, name: str, char: str, kind: str) -> None:
        self.name, self.char, self.kind = name, char, kind
        problem = f"character {char!r} is not allowed" if char else "it is empty"
        super().__init__(
            f"invalid {kind} name {name!r}: {problem}. "
            "Names may use letters, digits and '-', '_', '.', ':', '@', '/'; "
            f"rename it, e.g. {_suggest_name(name)!r}."
        )


def _suggest_name(name: str) -> str:
    from ._names import ALLOWED_PUNCT

    cleaned = "".join(c if c.isalnum() or c in ALLOWED_PUNCT else "-" for c in name.strip())
    return cleaned.strip("-") or "my-component"


class UnknownComponentError(RegistryError, KeyError):
    """No component of that name: says where it looked and what is close."""

    def __init__(
        self,
        name: str,
        kind: str,
        *,
        searched: Sequence[str] = (),
        close_matches: Sequence[str] = (),
        failures: Sequence[str] = (),
    ) -> None:
        self.name, self.kind = name, kind
        self.searched = list(searched)
        self.close_matches = list(close_matches)
        self.failures = list(failures)
        super().__init__(name)

    def __str__(self) -> str:
        parts = [f"unknown {self.kind} {self.name!r}."]
        if self.close_matches:
            quoted = ", ".join(repr(m) for m in self.close_matches)
            parts.append(f"Did you mean {quoted}?")
        if self.failures:
            parts.append("Plugins that failed to load: " + "; ".join(self.failures) + ".")
        if self.searched:
            parts.append("Looked in: " + "; ".join(self.searched) + ".")
        parts.append(
            f"Fix: check the spelling, install the plugin that provides it, or register it "
            f"with register({self.name!r}, ...); `codex-ml explain {self.name}` says more."
        )
        return " ".join(parts)


class RegistryCollisionError(RegistryError, ValueError):
    """A different object was registered under a name that is taken."""

    def __init__(self, name: str, kind: str, existing: str, new: str, existing_name: str = "") -> None:
        self.name, self.kind = name, kind
        self.existing_provenance, self.new_provenance = existing, new
        taken = f" (as {existing_name!r})" if existing_name and existing_name != name else ""
        super().__init__(
            f"{kind} name {name!r} is already registered{taken} by {existing}; "
            f"refusing a different object from {new}. Fix: pass override=True to replace "
            "it, or register under another name."
        )


class RegistryLoadError(RegistryError, ImportError):
    """A registered component (usually a plugin) could not be loaded.

    The original exception is chained as ``__cause__``.
    """

    def __init__(self, name: str, kind: str, provenance: str, reason: str) -> None:
        self.component, self.kind = name, kind
        self.provenance, self.reason = provenance, reason
        super().__init__(
            f"could not load {kind} {name!r} from {provenance}: {reason}. "
            "Fix: repair or upgrade that plugin, or disable it with "
            "CODEX_ML_PLUGINS_DISABLE; `codex-ml doctor` lists every broken plugin."
        )


class InterfaceError(RegistryError, TypeError):
    """A component lacks a method its kind requires (seed 003's TypeError)."""

    def __init__(self, label: str, cls_name: str, missing: Sequence[str], *, source: str = "") -> None:
        self.label, self.cls_name, self.missing = label, cls_name, list(missing)
        methods = " and ".join(f"{m}()" for m in self.missing)
        noun = "method" if len(self.missing) == 1 else "methods"
        where = f" ({source})" if source else ""
        super().__init__(f"{label} class {cls_name}{where} must implement {methods} {noun}")


class ToolSignatureError(RegistryError, TypeError):
    """A tool's signature no longer matches the schema it was registered with."""

    def __init__(self, tool: str, parameter: str, problem: str, provenance: str) -> None:
        self.tool, self.parameter, self.problem = tool, parameter, problem
        self.provenance = provenance
        super().__init__(
            f"tool {tool!r} ({provenance}) drifted from its schema: parameter "
            f"{parameter!r} {problem}. Fix: update the schema or the function so they agree, "
            "then register the tool again."
        )


class UnsafeFileError(RegistryError, PermissionError):
    """A file another account could have planted or swapped was not read.

    ``reason`` says what was wrong (owner, mode, a folder on the way, not a
    regular file, too large); see docs/reliability.md, "Threat model".
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(
            f"refusing to read {path}: {reason}. Another account could have put it there or "
            "could change it. Fix: keep the file (a regular file) in folders owned by you or root "
            "that only you can write (chown, chmod go-w), or point codex_ml at another copy."
        )

    def __str__(self) -> str:  # OSError would format it as "[Errno None] ..."
        return str(self.args[0])


class PluginWarning(UserWarning):
    """A plugin was skipped (broken, refused or shadowed); the application goes on."""


def describe_exception(exc: BaseException) -> str:
    """``Type: message``: the one-line cause quoted in reports and warnings."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
