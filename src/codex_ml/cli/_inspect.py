"""What the listing commands show, as JSON-ready dicts (no printing here).

Nothing in this module loads a component: it reads registry metadata and
provenance, and stats catalogue files. Only ``resolve=True`` runs hook and
bundle plugins (that is what the flag is for).
"""

from __future__ import annotations

import os

from codex_ml.registry import Registry

from ._kinds import NotFound, every_registry, resolve_kind

TYPE_CHECKING = False  # importing typing costs milliseconds on the listing path
if TYPE_CHECKING:
    from typing import Any

SOURCE_LABELS = {"built-in": "built-in", "in-process": "in-process"}


def describe(exc: BaseException) -> str:
    """``Type: first line of the message``, bounded and safe (the registry's own rule)."""
    from codex_ml.registry._errors import describe_exception

    return describe_exception(exc)


def short_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    if not path:
        return path
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel


def source_label(prov: dict[str, Any]) -> str:
    """One phrase for the SOURCE column: where an entry came from."""
    source = str(prov.get("source", ""))
    if source == "entry-point":
        dist = f"{prov.get('distribution', '')} {prov.get('dist_version', '')}".strip()
        return f"entry point ({dist})" if dist else "entry point"
    if source == "plugin-file":
        return f"plugin file {short_path(str(prov.get('file', '')))}".strip()
    return SOURCE_LABELS.get(source, source)


# ------------------------------------------------------------------ files
def files_info(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Status of every catalogue resource an entry reads (``metadata["resource"]``)."""
    ids = meta.get("resource")
    if not ids:
        return []
    return [resource_status(str(r)) for r in ([ids] if isinstance(ids, str) else ids)]


def resource_status(resource_id: str) -> dict[str, Any]:
    """Whether a resource's files are present; where they were looked for."""
    from codex_ml.catalogue import paths

    try:
        found, searched = paths.status(resource_id)
    except KeyError as exc:
        return {"resource": resource_id, "present": False, "path": None, "searched": [],
                "error": str(exc.args[0]) if exc.args else str(exc)}
    where = [{"where": label, "path": str(p), "exists": p.exists()} for label, p in searched]
    return {"resource": resource_id, "present": found is not None,
            "path": str(found) if found is not None else None, "searched": where}


def files_label(files: list[dict[str, Any]]) -> str:
    if not files:
        return "-"
    return "present" if all(f["present"] for f in files) else "missing"


# ---------------------------------------------------------------- entries
_SHOWN = ("name", "kind", "aliases", "factory", "loaded", "target", "provenance", "error",
          "version", "author", "description", "tags", "resource")


def entry_info(reg: Registry[Any], name: str) -> dict[str, Any]:
    """One entry, as ``list --json`` prints it; never loads it."""
    meta = reg.metadata(name)
    prov = dict(meta["provenance"])
    info: dict[str, Any] = {
        "name": meta["name"], "kind": reg.kind, "source": prov.get("source"),
        "source_label": source_label(prov), "distribution": prov.get("distribution") or None,
        "dist_version": prov.get("dist_version") or None, "entry_point": prov.get("entry_point") or None,
        "file": prov.get("file") or None, "module": prov.get("module") or None,
        "target": meta.get("target") or None, "loaded": bool(meta["loaded"]),
        "status": _status(meta), "error": meta.get("error"), "aliases": list(meta.get("aliases") or ()),
        "tags": [str(t) for t in meta.get("tags") or ()], "version": meta.get("version"),
        "author": meta.get("author"), "description": meta.get("description"),
        "factory": bool(meta.get("factory")), "files": files_info(meta), "provenance": prov,
    }
    info["metadata"] = {k: v for k, v in meta.items() if k not in _SHOWN}
    return info


def _status(meta: dict[str, Any]) -> str:
    if meta.get("error"):
        return "error"
    return "loaded" if meta.get("loaded") else "not loaded"


def list_data(reg: Registry[Any], tags: list[str] | None = None, resolve: bool = False) -> dict[str, Any]:
    """``list KIND``: every entry of one registry, plus what is pending or broken."""
    names = reg.list(tags=tags or None, resolve=resolve)
    report = reg.report()
    return {
        "kind": reg.kind, "label": reg.label, "entry_point_group": reg.entry_point_group,
        "tags": list(tags or []), "count": len(names),
        "entries": [entry_info(reg, n) for n in names],
        "hooks": hook_rows(reg), "disabled": list(report.disabled),
        "failures": [failure_info(f) for f in report.failed],
        "collisions": list(report.collisions), "plugin_files": plugin_files(),
    }


def hook_rows(reg: Registry[Any]) -> list[dict[str, Any]]:
    """Hook entry points of the kind's group: what they register shows once they ran."""
    if not reg.entry_point_group:
        return []
    report = reg.report()
    failed = {(f.name, f.provenance.distribution) for f in report.failed}
    rows = []
    for rec in reg.pending_hooks():
        state = "failed" if (rec.name, rec.distribution) in failed else (
            "ran" if f"{rec.name} ({rec.distribution})" in report.loaded else "not run")
        rows.append({"name": rec.name, "target": rec.value, "distribution": rec.distribution,
                     "dist_version": rec.version, "state": state})
    return rows


def failure_info(failure: Any) -> dict[str, Any]:
    """A PluginFailure as JSON: what broke, where it came from, why."""
    prov = failure.provenance.as_dict()
    return {
        "kind": failure.kind, "name": failure.name, "source": prov.get("source"),
        "source_label": source_label(prov), "distribution": prov.get("distribution") or None,
        "dist_version": prov.get("dist_version") or None, "entry_point": prov.get("entry_point") or None,
        "file": prov.get("file") or None, "provenance": prov["summary"],
        "cause": describe(failure.error), "raised_at": raised_at(failure.error),
    }


def raised_at(exc: BaseException) -> str | None:
    """``file:line`` of the innermost frame of ``exc`` (where the plugin broke)."""
    tb = exc.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{short_path(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"


def plugin_files() -> dict[str, Any]:
    """What the plugin-folder pass did: roots, files loaded, failed and refused."""
    from codex_ml.registry import plugin_dir_report

    rep = plugin_dir_report()
    return {
        "roots": [short_path(r) for r in rep.roots], "loaded": [short_path(p) for p in rep.loaded],
        "failed": [{"path": short_path(p), "cause": describe(e), "raised_at": raised_at(e)}
                   for p, e in rep.failed.items()],
        "refused": [{"path": short_path(p), "reason": why} for p, why in rep.refused.items()],
        "missing": [{"path": short_path(p), "reason": why} for p, why in rep.missing.items()],
    }


# -------------------------------------------------------------- ls, search
def ls_data(resolve: bool = False, tags: list[str] | None = None) -> dict[str, Any]:
    """``ls``: every registry with its count and names (only entries with every tag in ``tags``)."""
    regs = every_registry(bundles=resolve)
    rows = []
    for reg in regs:
        names = reg.list(tags=tags or None, resolve=resolve)
        rows.append({"kind": reg.kind, "label": reg.label, "entry_point_group": reg.entry_point_group,
                     "count": len(names), "names": names})
    return {"registries": rows, "total": sum(r["count"] for r in rows), "tags": list(tags or []),
            "plugin_files": plugin_files(), "bundles_not_run": bundles_not_run()}


def tagged(tags: list[str] | None) -> str:
    """`` tagged a, b`` for a title, or nothing without tags."""
    return f" tagged {', '.join(tags)}" if tags else ""


def bundles_not_run() -> list[dict[str, Any]]:
    """``codex_ml.plugins`` bundles that have not run: a kind they define is not listed yet."""
    from codex_ml.registry import _discovery, _epindex

    if _discovery.BUNDLES.once.done:
        return []
    return [{"name": r.name, "target": r.value, "distribution": r.distribution, "dist_version": r.version,
             "state": "not run"} for r in _epindex.records(_discovery.BUNDLE_GROUP)
            if not _discovery.allowed(r)]  # one CODEX_ML_PLUGINS_DISABLE/_ALLOW stops never runs


def search_data(query: str, kind: str | None = None, tags: list[str] | None = None) -> dict[str, Any]:
    """``search QUERY``: ranked hits over every registry (or one kind) that carry every tag in ``tags``."""
    regs = [resolve_kind(kind)] if kind else every_registry()
    wanted = set(tags or ())
    results = search_hits(regs, query, wanted)
    if not results:  # a miss runs the hook plugins (and bundles), as a lookup miss does
        regs = regs if kind else every_registry(bundles=True)
        for reg in regs:
            reg.list(resolve=True)
        results = search_hits(regs, query, wanted)
    data = {"query": query, "kind": regs[0].kind if kind else None, "tags": sorted(wanted),
            "count": len(results), "results": results}
    if not results:
        raise NotFound(f"no component matches {query!r}{tagged(sorted(wanted))}. Fix: try a shorter or "
                       f"different word{' or fewer tags' if wanted else ''}; `codex-ml ls` shows every "
                       "registered name.", data)
    return data


def search_hits(regs: list[Registry[Any]], query: str, wanted: set[str]) -> list[dict[str, Any]]:
    results = []
    for reg in regs:
        infos = [entry_info(reg, name) for name in reg.search(query)]
        for rank, info in enumerate(i for i in infos if wanted <= set(i["tags"] or ())):
            results.append({k: info[k] for k in ("kind", "name", "source", "source_label", "distribution",
                                                  "description", "tags")} | {"rank": rank})
    return results
