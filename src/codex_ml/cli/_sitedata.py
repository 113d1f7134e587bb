"""What the HTML catalogue shows, gathered from the registries as plain data.

Nothing here imports a component: entries are described from their metadata
and provenance; parameters come from the factory's signature only when the
registry already holds the loaded object, else from the entry's metadata,
else from the factory's source text (parsed with :mod:`ast`, never run).
Broken plugins are the failures the registries recorded (plugin folders are
imported by discovery anyway); ``resolve=True`` first runs hook and bundle
plugins the way ``codex-ml doctor`` does.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from codex_ml.registry import Registry

from ._doctor import not_strict
from ._explain import all_failures
from ._inspect import entry_info, hook_rows, plugin_files, short_path
from ._kinds import every_registry
from ._sourceparams import source_parameters


def slug(text: str) -> str:
    """A file-name-safe, readable form of ``text`` (``offline:tiny-vocab`` -> ``offline-tiny-vocab``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "x"


def collect(resolve: bool = False) -> dict[str, Any]:
    """Every registry with its entries, the providers, broken plugins and graphs."""
    with not_strict():
        regs = every_registry(bundles=resolve)
        if resolve:
            for reg in regs:
                reg.list(resolve=True)
    files = plugin_files()
    kinds = [kind_data(reg, files["roots"]) for reg in regs]
    return {"registries": kinds, "providers": providers(kinds), "broken": broken(regs, files),
            "total": sum(k["count"] for k in kinds), "plugin_files": files}


def kind_data(reg: Registry[Any], roots: list[str]) -> dict[str, Any]:
    report = reg.report()
    entries = [component(reg, name, roots) for name in reg.list()]
    return {"kind": reg.kind, "label": reg.label, "group": reg.entry_point_group,
            "count": len(entries), "page": f"kinds/{slug(reg.kind)}.html", "entries": entries,
            "hooks": hook_rows(reg), "collisions": list(report.collisions),
            "shadowed": list(report.shadowed), "disabled": list(report.disabled)}


def component(reg: Registry[Any], name: str, roots: list[str]) -> dict[str, Any]:
    info = entry_info(reg, name)
    entry = reg.entry(name)
    info["anchor"] = "c-" + slug(info["name"])
    info["params"], info["params_from"] = parameters(entry, info)
    info["provider"] = provider_of(info, roots)
    info["graph"] = graph_of(entry.obj) if entry.loaded else None
    info["extra"] = {k: _text(v) for k, v in info["metadata"].items()
                     if k not in ("parameters", "params", "resource", "builtin") and v not in (None, "", ())}
    return info


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


# -------------------------------------------------------------- parameters
def parameters(entry: Any, info: dict[str, Any]) -> tuple[list[dict[str, str]], str]:
    """``(parameters, where they were read)``; never imports the component."""
    if entry.loaded and callable(entry.obj):
        found = signature_params(entry.obj)
        if found is not None:
            return found, "signature"
    declared = entry.metadata.get("parameters") or entry.metadata.get("params")
    if declared:
        return metadata_params(declared), "metadata"
    target = info.get("target")
    if target and not entry.loaded:
        found = source_parameters(str(target))
        if found is not None:
            return found, "source"
    return [], ""


def signature_params(obj: Any) -> list[dict[str, str]] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    out = []
    for p in sig.parameters.values():
        out.append({"name": _star(p), "annotation": _annotation(p.annotation),
                    "default": "" if p.default is p.empty else repr(p.default)})
    return out


def _star(p: inspect.Parameter) -> str:
    if p.kind is p.VAR_POSITIONAL:
        return "*" + p.name
    return "**" + p.name if p.kind is p.VAR_KEYWORD else p.name


def _annotation(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else str(inspect.formatannotation(annotation))


def metadata_params(declared: Any) -> list[dict[str, str]]:
    """``parameters`` metadata: a mapping name -> default/description, or a list of names."""
    if isinstance(declared, dict):
        return [{"name": str(k), "annotation": "", "default": _text(v)} for k, v in declared.items()]
    if isinstance(declared, (list, tuple)):
        return [{"name": str(k), "annotation": "", "default": ""} for k in declared]
    return [{"name": str(declared), "annotation": "", "default": ""}]


# --------------------------------------------------------------- providers
def provider_of(info: dict[str, Any], roots: list[str]) -> dict[str, str]:
    """Who provides an entry: codex-ml, a distribution, a plugin folder, or the running code."""
    source = info["source"]
    if source == "entry-point":
        dist = info["distribution"] or "unknown distribution"
        return {"id": f"dist:{dist}", "type": "distribution",
                "label": f"{dist} {info['dist_version'] or ''}".strip()}
    if source == "plugin-file":
        root = root_of(short_path(info["file"] or ""), roots)
        return {"id": f"dir:{root}", "type": "plugin folder", "label": f"{_tail(root)}/", "path": root}
    if source == "built-in":
        return {"id": "builtin", "type": "built-in", "label": "codex-ml (built-in)"}
    return {"id": "in-process", "type": "in-process", "label": "registered in-process"}


def _tail(path: str, keep: int = 2) -> str:
    """The last ``keep`` parts of a long path (``…/site_demo/plugins``): labels stay short."""
    parts = path.rstrip("/").split("/")
    return path.rstrip("/") if len(parts) <= keep + 1 else "…/" + "/".join(parts[-keep:])


def root_of(path: str, roots: list[str]) -> str:
    for root in sorted(roots, key=len, reverse=True):
        if path == root or path.startswith(root.rstrip("/") + "/"):
            return root
    return path.rsplit("/", 1)[0] if "/" in path else path or "plugin folder"


def providers(kinds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per provider with the components it gives, in order of appearance."""
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        for e in kind["entries"]:
            prov = out.setdefault(e["provider"]["id"], {**e["provider"], "components": []})
            prov["components"].append({"kind": kind["kind"], "name": e["name"],
                                       "url": f"{kind['page']}#{e['anchor']}"})
    return list(out.values())


# ------------------------------------------------------------------ broken
def broken(regs: list[Registry[Any]], files: dict[str, Any]) -> list[dict[str, Any]]:
    """Every broken plugin (entry point, bundle, plugin file), with what ``doctor`` says."""
    rows = []
    for f in all_failures(regs):
        rows.append({"title": f"{f['kind']} {f['name']}", "where": f["provenance"], "cause": f["cause"],
                     "raised_at": f.get("raised_at"), "kind": f["kind"],
                     "fix": "Repair, upgrade or uninstall the plugin, or disable it with "
                            f"CODEX_ML_PLUGINS_DISABLE={f.get('distribution') or '<distribution>'}."})
    for f in files["failed"]:
        rows.append({"title": f"plugin file {f['path']}", "where": f["path"], "cause": f["cause"],
                     "raised_at": f.get("raised_at"), "kind": None,
                     "fix": "Fix the file's error, or move it out of the plugin folder."})
    for f in files["refused"]:
        rows.append({"title": f"plugin file {f['path']} (refused)", "where": f["path"],
                     "cause": f["reason"], "raised_at": None, "kind": None,
                     "fix": "Make it writable by its owner only (chmod go-w), or move it out."})
    for i, row in enumerate(rows, 1):
        name = row["title"].split(" (")[0].rsplit("/", 1)[-1]
        row["page"] = f"broken/{i:02d}-{slug(name)[:60]}.html"
    return rows


# ------------------------------------------------------------------ graphs
def graph_of(obj: Any) -> dict[str, Any] | None:
    """Nodes and edges of an object exposing ``mermaid()`` or a ``graph`` with nodes/edges."""
    mermaid = getattr(obj, "mermaid", None)
    if callable(mermaid) and not inspect.isclass(obj):
        try:
            return parse_mermaid(str(mermaid()))
        except Exception:  # noqa: BLE001 -- a plugin's own bug must not break the docs
            return None
    graph = getattr(obj, "graph", None)
    if graph is not None and hasattr(graph, "nodes") and hasattr(graph, "edges"):
        try:
            nodes = [str(n) for n in _call(graph.nodes)]
            edges = [(str(e[0]), str(e[1]), "") for e in _call(graph.edges)]
        except Exception:  # noqa: BLE001
            return None
        return {"nodes": nodes, "edges": edges} if nodes else None
    return None


def _call(value: Any) -> Any:
    return value() if callable(value) else value


_EDGE = re.compile(r"^\s*(.+?)\s*(-->|---|-.->|==>)\s*(?:\|([^|]*)\|\s*)?(.+?)\s*;?\s*$")
_NODE = re.compile(r"^([A-Za-z0-9_:.-]+)\s*(?:[\[({]+\s*\"?(.*?)\"?\s*[\])}]+)?$")


def parse_mermaid(text: str) -> dict[str, Any] | None:
    """The nodes and edges of a Mermaid ``graph``/``flowchart`` (labels kept, styling ignored)."""
    labels: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    for raw in re.split(r"[;\n]", text):
        line = raw.strip()
        if not line or line.startswith(("graph", "flowchart", "%%", "classDef", "style", "class ")):
            continue
        match = _EDGE.match(line)
        if match:
            src, dst = _node(match.group(1), labels), _node(match.group(4), labels)
            edges.append((src, dst, (match.group(3) or "").strip()))
        else:
            _node(line, labels)
    return {"nodes": list(labels), "labels": labels, "edges": edges} if labels else None


def _node(text: str, labels: dict[str, str]) -> str:
    match = _NODE.match(text.strip())
    if not match:
        labels.setdefault(text, text)
        return text
    ident, label = match.group(1), match.group(2)
    if label or ident not in labels:
        labels[ident] = label or labels.get(ident, ident)
    return ident
