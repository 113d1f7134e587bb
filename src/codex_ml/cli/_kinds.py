"""Which registry a command means, and the CLI's own errors.

Stdlib and :mod:`codex_ml.registry` only: this is on the listing path.
"""

from __future__ import annotations

from codex_ml.registry import Registry, RegistryError, all_registries, registries

TYPE_CHECKING = False  # importing typing costs milliseconds on the listing path
if TYPE_CHECKING:
    from typing import Any

# Spellings the seeds use for a kind whose registry is named otherwise.
KIND_ALIASES = {"datasets": "data_loaders", "dataset": "data_loaders", "data": "data_loaders"}


class CliError(Exception):
    """An error the CLI reports in one paragraph (its traceback only with CODEX_ML_TRACEBACK=1)."""

    exit_code = 1

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}


class UsageProblem(CliError):
    """Bad input on the command line: exit status 2."""

    exit_code = 2


class NotFound(CliError):
    """Nothing of that name: exit status 1."""


def _key(text: str) -> str:
    return text.strip().lower().replace("-", "_")


def resolve_kind(text: str) -> Registry[Any]:
    """The registry named ``text`` (kind, label, singular or seed alias)."""
    found = lookup_kind(text)
    if found is None:
        _run_bundles()  # a kind of one's own may be defined by a bundle plugin
        found = lookup_kind(text)
    if found is None:
        raise unknown_kind(text)
    return found


def lookup_kind(text: str) -> Registry[Any] | None:
    key = _key(text)
    key = KIND_ALIASES.get(key, key)
    by_key = kind_map()
    found = by_key.get(key)  # not `or`: an empty registry has len() 0 and is falsy
    return found if found is not None else by_key.get(key + "s")


def every_registry(bundles: bool = False) -> list[Registry[Any]]:
    """All registries, after plugin folders ran (a plugin file may define a kind).

    ``bundles=True`` first runs the ``codex_ml.plugins`` bundles too, which
    imports them: a bundle may define a kind of its own as well.
    """
    if bundles:
        _run_bundles()
    else:
        registries.list()  # auto-discovery of plugin folders, as any first access does
    return all_registries()


def kind_map() -> dict[str, Registry[Any]]:
    """Every spelling that names a registry: kind, label (singular), aliases."""
    out: dict[str, Registry[Any]] = {}
    for reg in every_registry():
        out.setdefault(_key(reg.label), reg)
        out[_key(reg.kind)] = reg
    for alias, kind in KIND_ALIASES.items():
        if kind in out:
            out.setdefault(alias, out[kind])
    return out


def _run_bundles() -> None:
    """Run ``codex_ml.plugins`` bundles (they may create registries of their own)."""
    try:
        registries.list(resolve=True)
    except RegistryError:
        pass


def unknown_kind(text: str) -> UsageProblem:
    from codex_ml.registry._search import close_matches

    kinds = sorted({reg.kind for reg in all_registries()} | {"datasets"})
    close = close_matches(text, kinds)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    message = (
        f"unknown kind {text!r}.{hint} Known kinds: {', '.join(kinds)}. Looked in the registry "
        "of registries (codex_ml.registry.registries), plugin folders and codex_ml.plugins "
        "bundles. Fix: use one of the kinds above, or define your own with "
        "Registry('<kind>', entry_point_group='codex_ml.<kind>') in a plugin file or bundle."
    )
    return UsageProblem(message, {"kind": text, "close_matches": close,
                                  "known_kinds": kinds})


def alias_note(text: str, reg: Registry[Any]) -> str:
    """``datasets`` is shown as what it is: the data_loaders registry."""
    return "" if _key(text) == _key(reg.kind) else f"{text} -> {reg.kind}"
