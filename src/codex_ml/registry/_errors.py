"""The one exception tree of codex_ml's registries.

Each error is rooted in the builtin it really is, carries its data as
attributes and builds its message from them, so callers can catch the builtin
(``KeyError``, ``ValueError`` ...) or the registry-specific class.
"""

from __future__ import annotations

import _thread

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
            "Names may use ASCII letters, digits and '-', '_', '.', ':', '@', '/'; "
            f"rename it, e.g. {_suggest_name(name)!r}."
        )


def _suggest_name(name: str) -> str:
    from ._names import ALLOWED_PUNCT

    # ASCII letters and digits only, as the names themselves: 'modèle' must not suggest itself.
    cleaned = "".join(c if (c.isascii() and c.isalnum()) or c in ALLOWED_PUNCT else "-" for c in name.strip())
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

    def __init__(self, name: str, kind: str, existing: str, new: str, existing_name: str = "",
                 *, strict: bool = False) -> None:
        self.name, self.kind, self.strict = name, kind, strict
        self.existing_provenance, self.new_provenance = existing, new
        taken = f" (as {existing_name!r})" if existing_name and existing_name != name else ""
        if strict:  # two plugins: kept-the-first is a warning, an error in strict mode
            super().__init__(
                f"{kind} name {name!r} is registered by two plugins: {existing} (found first) and {new}; "
                "strict mode (strict=True or CODEX_ML_PLUGINS_STRICT=1) refuses the collision. Fix: uninstall or "
                "disable one of them (CODEX_ML_PLUGINS_DISABLE=<distribution>), or let one register another name.")
            return
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
        from codex_ml._extras import extra_in_text, install_hint

        self.extra = extra_in_text(reason) if provenance.startswith("built-in") else None
        fix = (f"it needs the optional extra [{self.extra}], which is not installed. Fix: "
               f"{install_hint(self.extra)}." if self.extra else
               "Fix: repair or upgrade that plugin, or disable it with "
               "CODEX_ML_PLUGINS_DISABLE; `codex-ml doctor` lists every broken plugin.")
        super().__init__(f"could not load {kind} {name!r} from {provenance}: {reason}; {fix}"
                         if self.extra else f"could not load {kind} {name!r} from {provenance}: "
                         f"{reason}. {fix}")


class InterfaceError(RegistryError, TypeError):
    """A component lacks a method its kind requires (a TypeError, docs/guides/registries.md)."""

    def __init__(self, label: str, cls_name: str, missing: Sequence[str], *, source: str = "",
                 name: str | None = None, value: object = None) -> None:
        self.label, self.cls_name, self.missing = label, cls_name, list(missing)
        methods = " and ".join(f"{m}()" for m in self.missing)
        noun = "method" if len(self.missing) == 1 else "methods"
        where = f" ({source})" if source else ""
        if name is None:
            super().__init__(f"{label} class {cls_name}{where} must implement {methods} {noun}")
            return
        kind = label.lower()
        builder = " (or pass factory=True: calling it builds one)" if callable(value) else ""
        super().__init__(  # a value registered where a class or factory belongs
            f"{kind} {name!r}{where} is the {cls_name} value {value!r:.60}: neither a {kind} class nor a "
            f"factory, and it does not implement {methods}. Fix: register the {kind} class, or a function "
            f"that builds one{builder}.")


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

    def __init__(self, path: str, reason: str, what: str = "file", *, action: str = "read",
                 fix: str | None = None) -> None:
        self.path, self.reason = path, reason
        kept = "the file (a regular file)" if what == "file" else f"the {what}"
        fix = fix or (f"keep {kept} in folders owned by you or root that only you can write (chown, "
                      "chmod go-w), or point codex_ml at another copy")
        super().__init__(f"refusing to {action} {path}: {reason}. Another account could have put it there or "
                         f"could change it. Fix: {fix}.")

    def __str__(self) -> str:  # OSError would format it as "[Errno None] ..."
        return str(self.args[0])


class PluginWarning(UserWarning):
    """A plugin was skipped (broken, refused or shadowed); the application goes on."""


# Keys of the plugin warnings already given in this process (the isolated test world saves it).
WARNED: set[str] = set()
_WARNING = _thread.allocate_lock()  # two threads meeting one problem warn once, not twice


def warn_once(message: str, key: str | None = None, stacklevel: int = 3) -> None:
    """One ``PluginWarning`` per process and problem (``key``, else the message itself)."""
    key = message if key is None else key
    with _WARNING:
        if key in WARNED:
            return
        WARNED.add(key)
    import warnings

    warnings.warn(message, PluginWarning, stacklevel=stacklevel + 1)


MAX_CAUSE = 500  # characters of a plugin's message quoted in reports and warnings


def describe_exception(exc: BaseException) -> str:
    """``Type: first line of the message``, at most ``MAX_CAUSE`` characters; never raises.

    A plugin's exception is untrusted: its ``__str__`` may raise, recurse or
    return 50 MB. See docs/reliability.md.
    """
    name = _type_name(exc)
    try:
        text = str(exc)[: MAX_CAUSE * 4]
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - a broken __str__ must not escape
        return f"{name}: <message not shown: its __str__ raised>"
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) > MAX_CAUSE:
        first = first[:MAX_CAUSE] + "... (message cut)"
    return f"{name}: {first}" if first else name


def _type_name(exc: BaseException) -> str:
    try:
        name = type(exc).__name__
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - a metaclass may make even this raise
        return "exception"
    return name[:MAX_CAUSE] if isinstance(name, str) else "exception"
