"""``explain NAME``: everything known about a component, or why it is absent."""

from __future__ import annotations

import inspect
from typing import Any

from codex_ml.registry import Registry, RegistryError, RegistryLoadError, UnknownComponentError

from ._inspect import describe, entry_info, failure_info, plugin_files, raised_at, short_path
from ._kinds import NotFound, every_registry, lookup_kind, resolve_kind


def explain_data(name: str, kind: str | None = None, load: bool = True) -> dict[str, Any]:
    """Matches of ``name`` in every registry (or one kind); raises NotFound with the details."""
    regs = [resolve_kind(kind)] if kind else every_registry()
    matches, misses = _look_up(regs, name, load)
    if not matches and not kind:  # a miss runs the bundles: they may register the name, or define its kind
        matches, misses = _look_up(every_registry(bundles=True), name, load)
    if matches:
        return {"name": name, "found": True, "matches": matches}
    as_kind = None if kind else lookup_kind(name)
    if as_kind is not None:
        return {"name": name, "found": True, "matches": [], "registry": registry_info(as_kind)}
    raise not_found(name, misses)


def _look_up(regs: list[Registry[Any]], name: str, load: bool
             ) -> tuple[list[dict[str, Any]], list[tuple[Registry[Any], UnknownComponentError]]]:
    """What each registry knows of ``name``: matches, and the misses with their errors."""
    matches: list[dict[str, Any]] = []
    misses: list[tuple[Registry[Any], UnknownComponentError]] = []
    for reg in regs:
        try:
            entry = reg.entry(name)
        except UnknownComponentError as exc:
            misses.append((reg, exc))
            continue
        except RegistryLoadError as exc:  # a broken hook plugin of that very name
            matches.append(_broken_hook(reg, name, exc))
            continue
        matches.append(match_info(reg, entry.name, load))
    return matches, misses


def match_info(reg: Registry[Any], name: str, load: bool) -> dict[str, Any]:
    info = entry_info(reg, name)
    report = reg.report()
    quoted = f"'{info['name']}'".lower()
    info["shadowing"] = [m for m in report.shadowed + report.collisions if quoted in m.lower()]
    for status in info["files"]:
        if not status["present"]:
            status["fix"] = _files_fix(status["resource"])
    if load:
        info.update(load_details(reg, name))
    return info


def _files_fix(resource: str) -> str:
    """The catalogue's own "could not find ... Searched ... Fix ..." paragraph."""
    from codex_ml.catalogue import paths

    try:
        paths.resolve(resource)
    except (FileNotFoundError, KeyError) as exc:
        return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return ""


def load_details(reg: Registry[Any], name: str) -> dict[str, Any]:
    """Load the component and read its signature, docstring and source location."""
    try:
        obj = reg[name]
    except RegistryLoadError as exc:
        cause = exc.__cause__ or exc
        return {"status": "error", "load_error": str(exc), "cause": describe(cause),
                "raised_at": raised_at(cause)}
    except (RegistryError, Exception) as exc:  # noqa: BLE001  (a plugin's own error)
        return {"status": "error", "load_error": describe(exc), "cause": describe(exc),
                "raised_at": raised_at(exc)}
    return {"loaded": True, "status": "loaded", "object_type": type(obj).__name__,
            "signature": signature_of(obj), "doc": inspect.getdoc(obj) if _own_doc(obj) else None,
            "defined_at": defined_at(obj)}


def signature_of(obj: Any) -> str | None:
    if not callable(obj):
        return None
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return None
    return f"{getattr(obj, '__name__', type(obj).__name__)}{sig}"


def _own_doc(obj: Any) -> bool:
    """A docstring of the object itself, not of ``str``/``dict``/``function`` etc."""
    return bool(getattr(obj, "__doc__", None)) and (
        inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)
        or type(obj).__module__ not in ("builtins",))


def defined_at(obj: Any) -> str | None:
    target = obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj)
    try:
        path = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        return None
    return f"{short_path(path)}:{line}" if path else None


def _broken_hook(reg: Registry[Any], name: str, exc: RegistryLoadError) -> dict[str, Any]:
    cause = exc.__cause__ or exc
    return {"name": name, "kind": reg.kind, "status": "error", "source": None,
            "source_label": exc.provenance, "load_error": str(exc), "cause": describe(cause),
            "raised_at": raised_at(cause), "files": [], "aliases": [], "tags": []}


def registry_info(reg: Registry[Any]) -> dict[str, Any]:
    names = reg.list()
    return {"kind": reg.kind, "label": reg.label, "entry_point_group": reg.entry_point_group,
            "count": len(names), "names": names}


# -------------------------------------------------------------- not found
def not_found(name: str, misses: list[tuple[Registry[Any], UnknownComponentError]]) -> NotFound:
    from codex_ml.registry._names import normalise
    from codex_ml.registry._search import suggestion_score

    close = [{"kind": reg.kind, "name": m} for reg, exc in misses for m in exc.close_matches]
    close.sort(key=lambda c: -suggestion_score(normalise(name), normalise(c["name"])))
    close = close[:3]  # the best three of every registry's, as one registry suggests
    failures = all_failures([reg for reg, _ in misses])
    data = {"name": name, "found": False, "close_matches": close,
            "searched": {reg.kind: exc.searched for reg, exc in misses},
            "failures": failures, "plugin_files": plugin_files()}
    return NotFound(_not_found_message(name, data, [reg for reg, _ in misses]), data)


def all_failures(regs: list[Registry[Any]]) -> list[dict[str, Any]]:
    """Every recorded plugin failure of ``regs`` (bundles included), once each."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for reg in regs:
        for failure in reg.report().failed + reg.failures():
            key = (failure.kind, failure.name, str(failure.provenance))
            if key not in seen:
                seen.add(key)
                out.append(failure_info(failure))
    return out


def _not_found_message(name: str, data: dict[str, Any], regs: list[Registry[Any]]) -> str:
    parts = [f"no component named {name!r} in {_where(regs)}."]
    if data["close_matches"]:
        parts.append("Did you mean " + ", ".join(
            f"{c['name']!r} ({c['kind']})" for c in data["close_matches"]) + "?")
    broken = [f"{f['name']} ({f['provenance']}): {f['cause']}" for f in data["failures"]]
    broken += [f"{f['path']}: {f['cause']}" for f in data["plugin_files"]["failed"]]
    if broken:
        parts.append("Plugins that failed to load: " + "; ".join(broken) + ".")
    groups = sorted({r.entry_point_group for r in regs if r.entry_point_group})
    roots = data["plugin_files"]["roots"]
    parts.append(f"Looked in: the registered entries, the entry-point groups {', '.join(groups)} "
                 f"on sys.path, and {'plugin folders ' + ', '.join(roots) if roots else 'no plugin folders (set CODEX_ML_PLUGIN_PATH or create ./plugins)'}.")
    parts.append("Fix: check the spelling (`codex-ml search` helps), install the plugin that "
                 "provides it, or register it; `codex-ml doctor` lists every broken plugin.")
    return " ".join(parts)


def _where(regs: list[Registry[Any]]) -> str:
    if len(regs) == 1:
        return f"the {regs[0].kind} registry"
    return f"any of the {len(regs)} registries"
