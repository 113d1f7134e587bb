"""``codex-ml report RUN_DIR... --out report.html``: one offline page comparing runs.

Loss and perplexity curves (runs overlaid) are inline SVG drawn here; the
stylesheet is inlined too, so the single file opens anywhere without a
network or a second file. Everything read from the run folders is escaped
by the template engine: a run folder is data, never markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import _rundata, _svg
from ._kinds import UsageProblem

SKIP_KEYS = ("step", "split")


def build_report(run_dirs: list[str], out: str) -> dict[str, Any]:
    """Read the runs, write the page; return what it holds (for ``--json``)."""
    if not run_dirs:
        raise UsageProblem("no run folder given. Fix: codex-ml report runs/<run> [runs/<other>...] "
                           "--out report.html")
    runs = [_rundata.read_run(Path(p)) for p in run_dirs]
    _label(runs)
    data = report_data(runs)
    from ._site import SITE, environment

    env = environment(SITE / "templates")
    page = env.get_template("report.html").render(**data, css=(SITE / "static" / "site.css").read_text())
    from ._docs import write_out

    path = Path(out)
    write_out(path, page, "the report ", "a writable path")
    return {"out": str(path), "runs": [r["path"] for r in runs],
            "charts": [c["title"] for c in data["charts"]], "notes": data["notes"]}


def _label(runs: list[dict[str, Any]]) -> None:
    """A short, unique label and a colour per run (the folder name, with its parent if needed)."""
    names = [r["name"] for r in runs]
    for i, run in enumerate(runs):
        clash = names.count(run["name"]) > 1
        run["label"] = "/".join(Path(run["path"]).parts[-2:]) if clash else run["name"]
        if [r.get("label") for r in runs[:i]].count(run["label"]):
            run["label"] = f"{run['label']} ({i + 1})"
        run["color"] = _svg.color(i)


def report_data(runs: list[dict[str, Any]]) -> dict[str, Any]:
    evals = eval_rows(runs)
    return {"runs": runs, "overview": [overview(r) for r in runs], "charts": charts(runs),
            "diff": _rundata.config_diff(runs), "evals": evals,
            "eval_keys": _keys(row["metrics"] for row in evals),
            "samples": [(r, _rundata.samples(r)) for r in runs],
            "trained_on": [trained_on(r) for r in runs],
            "notes": [f"{r['label']}: {n}" for r in runs for n in r["notes"]]}


def overview(run: dict[str, Any]) -> dict[str, Any]:
    s, cfg = run["summary"], run["config"]
    final = s.get("final_eval") or _last_val(run["metrics"])
    return {"label": run["label"], "color": run["color"], "path": run["path"],
            "model": s.get("model") or (cfg.get("model") or {}).get("name"),
            "trainer": s.get("trainer") or (cfg.get("training") or {}).get("name"),
            "steps": s.get("steps") or max((r.get("step", 0) for r in run["metrics"]), default=None),
            "device": s.get("device"), "world_size": s.get("world_size"),
            "seconds": _fmt(s.get("train_seconds")), "tokens_per_sec": _fmt(s.get("tokens_per_sec")),
            "loss": _fmt(final.get("loss")), "perplexity": _fmt(final.get("perplexity"))}


def _last_val(records: list[dict[str, Any]]) -> dict[str, Any]:
    vals = [r for r in records if r.get("split") == "val"]
    return vals[-1] if vals else {}


def _fmt(value: Any) -> str:
    num = _rundata.number(value)
    if num is None:
        return "" if value is None else str(value)
    return f"{num:,.0f}" if abs(num) >= 1000 else f"{num:.4g}"


# ------------------------------------------------------------------ charts
def charts(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Loss (train and validation), perplexity (log scale), then every other validation metric."""
    wanted = [("Training loss", "train", "loss", False), ("Validation loss", "val", "loss", False),
              ("Validation perplexity", "val", "perplexity", True)]
    others = _keys(r for run in runs for r in run["metrics"] if r.get("split") == "val")
    wanted += [(f"Validation {k.replace('_', ' ')}", "val", k, False) for k in others
               if k not in ("loss", "perplexity")]
    out = []
    for title, split, key, log_y in wanted:
        series = [{"label": r["label"], "color": r["color"], "points": _rundata.curve(r["metrics"], split, key)}
                  for r in runs]
        chart = _svg.line_chart(title, [s for s in series if s["points"]], log_y=log_y, y_label=key)
        if chart is not None:
            out.append(chart)
    return out


def _keys(records: Any) -> list[str]:
    """Numeric keys of ``records`` in first-seen order (step and split left out)."""
    keys: dict[str, None] = {}
    for r in records:
        for k, v in r.items():
            if k not in SKIP_KEYS and _rundata.number(v) is not None:
                keys.setdefault(k, None)
    return list(keys)


# ------------------------------------------------------- evaluations, data
def eval_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The end-of-training evaluation and every ``codex-ml evaluate`` of each run."""
    rows = []
    for run in runs:
        s = run["summary"]
        final = (s.get("evaluation") or {}).get("metrics") or s.get("final_eval")
        if isinstance(final, dict) and final:
            rows.append({"run": run["label"], "color": run["color"], "source": "end of training (summary.json)",
                         "weights": s.get("checkpoint"), "metrics": final, "notes": []})
        for ev in run["evals"]:
            metrics = ev.get("metrics") if isinstance(ev.get("metrics"), dict) else {}
            notes = [f"artefacts changed: {c}" for c in ev.get("artefacts_changed") or []]
            notes += [f"override {o}" for o in ev.get("overrides") or []]
            rows.append({"run": run["label"], "color": run["color"], "source": ev["file"],
                         "weights": ev.get("weights"), "metrics": metrics, "notes": notes})
    for row in rows:
        row["shown"] = {k: _fmt(v) for k, v in row["metrics"].items()}
    return rows


def trained_on(run: dict[str, Any]) -> dict[str, Any]:
    """What the run was trained on: its provenance record, else the names in its config."""
    prov, cfg = run["provenance"], run["config"]
    components = [{"part": part, **_origin(o)} for part, o in (prov.get("components") or {}).items()
                  if isinstance(o, dict)]
    artefacts = [{"part": part, "key": a.get("key"), "path": a.get("path"),
                  "sha256": str(a.get("sha256") or "")[:16], "kind": a.get("kind")}
                 for part, a in (prov.get("artefacts") or {}).items() if isinstance(a, dict)]
    if not components:
        components = [{"part": part, "name": name, "origin": "named in config.yaml"}
                      for part, name in _config_names(cfg) if name]
    return {"label": run["label"], "color": run["color"], "components": components,
            "artefacts": artefacts, "versions": prov.get("versions") or {},
            "recorded": bool(prov)}


def _origin(origin: dict[str, Any]) -> dict[str, Any]:
    if origin.get("distribution"):
        where = f"{origin['distribution']} {origin.get('version') or ''}".strip()
    elif origin.get("file"):
        where = f"plugin file {origin['file']}"
    else:
        where = str(origin.get("source") or "")
    return {"name": origin.get("name"), "origin": where}


def _config_names(cfg: dict[str, Any]) -> list[tuple[str, Any]]:
    def part(section: str, key: str = "name") -> Any:
        value = cfg.get(section)
        return value.get(key) if isinstance(value, dict) else None

    return [("model", part("model")), ("tokenizer", part("tokenizer")),
            ("dataset", part("dataset_loader")), ("dataset path", part("dataset_loader", "path")),
            ("trainer", part("training"))]


def report_action(run_dirs: list[str], out: str = "report.html", as_json: bool = False) -> int:
    """``codex-ml report``: the body the Typer command calls."""
    from ._actions import run
    from ._render import Text

    def produce() -> tuple[Any, list[Any], int]:
        data = build_report(run_dirs, out)
        lines = [Text(f"wrote {data['out']}: {len(data['runs'])} run(s), {len(data['charts'])} chart(s)")]
        lines += [Text(f"note: {n}", "yellow") for n in data["notes"]]
        return data, lines, 0

    return run(as_json, produce)
