"""Turn the commands' data into printable blocks (tables and paragraphs)."""

from __future__ import annotations

from ._inspect import files_label, tagged
from ._render import Block, Table, Text

TYPE_CHECKING = False  # importing typing costs milliseconds on the listing path
if TYPE_CHECKING:
    from typing import Any


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _loaded(entry: dict[str, Any]) -> str:
    return "error" if entry.get("status") == "error" else yes_no(bool(entry.get("loaded")))


# ------------------------------------------------------------------- list
def list_blocks(data: dict[str, Any], title: str) -> list[Block]:
    rows = [[e["name"], e["source_label"], _loaded(e), files_label(e["files"]), e.get("description") or ""]
            for e in data["entries"]]
    tags = tagged(data["tags"])
    group = f" [{data['entry_point_group']}]" if data["entry_point_group"] else ""
    blocks: list[Block] = [Table(f"{title}{group}: {data['count']}{tags}",
                                 ["name", "source", "loaded", "files", "description"], rows)]
    blocks += missing_files_blocks(data["entries"])
    blocks += hook_blocks(data["hooks"])
    blocks += [Text(f"disabled: {d}", "dim") for d in data["disabled"]]
    blocks += [Text(f"collision: {c}", "red") for c in data["collisions"]]
    blocks += failure_blocks(data["failures"], data["plugin_files"])
    return blocks


def missing_files_blocks(entries: list[dict[str, Any]]) -> list[Block]:
    out: list[Block] = []
    for entry in entries:
        for status in entry["files"]:
            if status["present"]:
                continue
            out.append(Text(f"{entry['name']}: files for {status['resource']!r} are missing; searched:", "yellow"))
            out += [Text(f"  {i}. {s['where']}: {s['path']}") for i, s in enumerate(status["searched"], 1)]
            if status.get("error"):
                out.append(Text(f"  {status['error']}"))
    return out


def hook_blocks(hooks: list[dict[str, Any]]) -> list[Block]:
    return not_run_blocks([h for h in hooks if h["state"] == "not run"], "hook plugin(s) not run yet (they "
                          "register their components when run: use --resolve, `codex-ml doctor`, or ask for a name):")


def not_run_blocks(hooks: list[dict[str, Any]], what: str) -> list[Block]:
    """``N <what>`` and one line per hook or bundle that has not run."""
    if not hooks:
        return []
    lines = [f"  {h['name']} = {h['target']} ({h['distribution']} {h['dist_version']})" for h in hooks]
    return [Text(f"{len(hooks)} {what}", "dim"), *(Text(line, "dim") for line in lines)]


def failure_blocks(failures: list[dict[str, Any]], files: dict[str, Any]) -> list[Block]:
    out: list[Block] = [Text(f"broken plugin {f['name']} ({f['provenance']}): {f['cause']}", "red")
                        for f in failures]
    out += [Text(f"broken plugin file {f['path']}: {f['cause']}", "red") for f in files["failed"]]
    out += [Text(f"refused plugin file {f['path']}: {f['reason']}", "red") for f in files["refused"]]
    out += [Text(f"missing plugin folder {f['path']}: it {f['reason']}", "red") for f in files["missing"]]
    if out:
        out.append(Text("Run `codex-ml doctor` for the causes of every broken plugin.", "dim"))
    return out


# --------------------------------------------------------------- ls, search
def ls_blocks(data: dict[str, Any]) -> list[Block]:
    rows = [[r["kind"], r["entry_point_group"] or "-", str(r["count"]), ", ".join(r["names"])]
            for r in data["registries"]]
    title = f"{len(rows)} registries, {data['total']} components{tagged(data.get('tags'))}"
    return [Table(title, ["kind", "entry-point group", "count", "names"], rows),
            *bundle_blocks(data.get("bundles_not_run", [])), *failure_blocks([], data["plugin_files"])]


def bundle_blocks(bundles: list[dict[str, Any]]) -> list[Block]:
    return not_run_blocks(bundles, "bundle plugin(s) not run yet (a kind one defines is listed once it "
                          "ran: use --resolve or `codex-ml doctor`):")


def search_blocks(data: dict[str, Any]) -> list[Block]:
    rows = [[r["kind"], r["name"], r["source_label"], r.get("description") or ""] for r in data["results"]]
    where = f"{data['query']!r}{tagged(data.get('tags'))}"
    return [Table(f"{data['count']} match(es) for {where}", ["kind", "name", "source", "description"], rows)]


# ----------------------------------------------------------------- explain
def explain_blocks(data: dict[str, Any]) -> list[Block]:
    if data.get("registry"):
        return registry_blocks(data["registry"])
    out: list[Block] = []
    for match in data["matches"]:
        out += match_blocks(match)
    return out


def registry_blocks(reg: dict[str, Any]) -> list[Block]:
    return [Text(f"{reg['kind']}: a registry of {reg['label']}s", "bold"),
            Text(f"  entry-point group: {reg['entry_point_group'] or '-'}"),
            Text(f"  {reg['count']} entries: {', '.join(reg['names']) or '(none)'}"),
            Text(f"  `codex-ml list {reg['kind']}` shows them.")]


_FIELDS = (("kind", "kind"), ("source", "source_label"), ("distribution", "distribution"),
           ("dist version", "dist_version"), ("entry point", "entry_point"), ("plugin file", "file"),
           ("target", "target"), ("status", "status"), ("version", "version"), ("author", "author"),
           ("description", "description"), ("signature", "signature"), ("defined at", "defined_at"),
           ("error", "load_error"), ("cause", "cause"), ("raised at", "raised_at"))


def match_blocks(m: dict[str, Any]) -> list[Block]:
    out: list[Block] = [Text(f"{m['name']} ({m['kind']})", "bold")]
    rows = [[label, str(m[key])] for label, key in _FIELDS if m.get(key) not in (None, "", [])]
    for label, key in (("aliases", "aliases"), ("tags", "tags")):
        if m.get(key):
            rows.append([label, ", ".join(m[key])])
    rows += [[k, str(v)] for k, v in (m.get("metadata") or {}).items() if v not in (None, "", ())]
    out.append(Table("", ["field", "value"], rows))
    out += [Text(f"shadowing: {s}", "yellow") for s in m.get("shadowing", [])]
    out += file_blocks(m["files"])
    if m.get("doc"):
        out += [Text("docstring:", "bold"), Text(_indent(m["doc"]))]
    return out


def file_blocks(files: list[dict[str, Any]]) -> list[Block]:
    out: list[Block] = []
    for status in files:
        if status["present"]:
            out.append(Text(f"files ({status['resource']}): present at {status['path']}", "green"))
            continue
        out.append(Text(f"files ({status['resource']}): missing", "yellow"))
        out.append(Text(_indent(status.get("fix") or "\n".join(
            f"{i}. {s['where']}: {s['path']}" for i, s in enumerate(status["searched"], 1)))))
    return out


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


# ------------------------------------------------------------------ doctor
def doctor_blocks(data: dict[str, Any]) -> list[Block]:
    regs = data["registries"]
    rows = [[r["kind"], r["entry_point_group"] or "-", str(r["count"]), str(len(r["loaded"])),
             str(r["failed"]), str(r["collisions"])] for r in regs]
    out: list[Block] = [Table("codex-ml doctor: registries",
                              ["kind", "entry-point group", "entries", "plugins loaded", "failed", "collisions"], rows)]
    out += _context_blocks(data)
    out += [Text(f"FAILED {f['kind']} {f['name']} ({f['provenance']}): {f['cause']}"
                 + (f" [raised at {f['raised_at']}]" if f.get("raised_at") else ""), "red")
            for f in data["failures"]]
    files = data["plugin_files"]
    out += [Text(f"FAILED plugin file {f['path']}: {f['cause']}", "red") for f in files["failed"]]
    out += [Text(f"REFUSED plugin file {f['path']}: {f['reason']}", "red") for f in files["refused"]]
    out += [Text(f"MISSING plugin folder {f['path']}: it {f['reason']}. Fix: create it, or correct "
                 "CODEX_ML_PLUGIN_PATH.", "red") for f in files["missing"]]
    out += [Text(f"COLLISION {c['kind']}: {c['message']}", "red") for c in data["collisions"]]
    out += [Text(f"ERROR {e}", "red") for e in data["errors"]]
    out += [Text(f"shadowed {s['kind']}: {s['message']}", "dim") for s in data["shadowed"]]
    out += [Text(f"disabled {s['kind']}: {s['message']}", "dim") for s in data["disabled"]]
    out += [Text(f"extra [{m['extra']}] not installed (no {', '.join(m['missing_modules'])}): "
                 + (f"built-ins {', '.join(m['needed_by'])} cannot load. " if m["needed_by"] else "")
                 + f"Fix: {m['fix']}", "yellow") for m in data.get("missing_extras", [])]
    out += _catalogue_blocks(data["catalogue_files"])
    out.append(_verdict(data))
    return out


def _context_blocks(data: dict[str, Any]) -> list[Block]:
    eps, files = data["entry_points"], data["plugin_files"]
    out: list[Block] = []
    if eps:
        dists = ", ".join(eps["distributions"]) or "none"
        out.append(Text(f"entry points: {eps['count']} in codex_ml.* groups, from: {dists}"))
    roots = ", ".join(files["roots"]) or "none (set CODEX_ML_PLUGIN_PATH or create ./plugins)"
    out.append(Text(f"plugin folders: {roots}; {len(files['loaded'])} file(s) loaded"))
    return out


def _catalogue_blocks(rows: list[dict[str, Any]]) -> list[Block]:
    table = Table("catalogue files (missing files are not an error: the entry fails only when used)",
                  ["kind", "name", "resource", "present", "path or first place searched"],
                  [[r["kind"], r["name"], r["resource"], yes_no(r["present"]),
                    r["path"] or (r["searched"][0]["path"] if r["searched"] else "")] for r in rows])
    return [table] if rows else []


def _verdict(data: dict[str, Any]) -> Text:
    if data["ok"]:
        return Text("OK: every plugin loads.", "green")
    return Text(f"{data['problems']} problem(s) found. Fix: repair, upgrade or uninstall the plugins "
                "above, or disable one with CODEX_ML_PLUGINS_DISABLE=<distribution>.", "bold red")
