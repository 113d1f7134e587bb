"""``doctor``: load every plugin, report each failure with its cause.

Discovery runs with ``strict=False`` (an argument always wins over
``CODEX_ML_PLUGINS_STRICT``), so one broken plugin does not hide the next:
the exit status does the gating instead (non-zero when anything is broken).

With a timeout (``--timeout N``, default 10 s) each plugin's module is first
imported in a child process (``_probe``); one that hangs or kills its
interpreter is reported as failed and skipped by the doctor's own run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from codex_ml.registry import PluginFailure, Registry, RegistryError

from ._explain import all_failures
from ._inspect import describe, failure_info, files_info, plugin_files
from ._kinds import UsageProblem, every_registry

DEFAULT_TIMEOUT = 10.0


def not_strict() -> Any:
    """Strict mode off while the block runs: passed down as settings, never by editing os.environ."""
    from codex_ml.registry._settings import overridden

    return overridden(strict=False)


def doctor_data(load_all: bool = False, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Run discovery for every registry and gather what went wrong (``timeout`` 0: no child probe)."""
    errors: list[str] = []
    stuck, stuck_files = probe_plugins(timeout) if timeout > 0 else ([], {})
    with skipping(stuck), skipping_files(stuck_files):
        regs = every_registry(bundles=True)  # a bundle may define a kind: run them before the list is taken
        for reg in regs:
            _discover(reg, errors)
            if load_all:
                _load_every_entry(reg)
    failures = all_failures(regs) + [failure_info(f) for f in stuck]
    files = plugin_files()
    collisions = [{"kind": r.kind, "message": m} for r in regs for m in r.report().collisions]
    problems = (len(failures) + len(collisions) + len(errors)
                + sum(len(files[k]) for k in ("failed", "refused", "missing")))
    return {
        "ok": problems == 0, "problems": problems, "loaded_all": load_all,
        "registries": [_registry_row(r) for r in regs], "failures": failures,
        "collisions": collisions, "errors": errors,
        "shadowed": [{"kind": r.kind, "message": m} for r in regs for m in r.report().shadowed],
        "disabled": [{"kind": r.kind, "message": m} for r in regs for m in r.report().disabled
                     if not any(m.startswith(_rule(f) + " (") for f in stuck)],
        "plugin_files": files, "catalogue_files": catalogue_files(regs),
        "entry_points": entry_point_summary(),
        "missing_extras": missing_extras_report(regs),
    }


def probe_plugins(timeout: float) -> tuple[list[PluginFailure], dict[str, BaseException]]:
    """Import each plugin module and plugin file in a child process; those that hung or crashed.

    Entry points come back as failures; plugin files as ``{path: error}``, which
    the folder pass then records as failed instead of importing them.
    """
    from codex_ml.registry import _dirstate, _discovery, _epindex, _plugindirs
    from codex_ml.registry._entry import BUILTIN

    from ._probe import probe

    by_module: dict[str, list[_epindex.EPRecord]] = {}
    for rec in _epindex.current().records:
        prov = _discovery.provenance_of(rec)
        if prov.source != BUILTIN and not _discovery.allowed(rec):
            by_module.setdefault(prov.module, []).append(rec)
    roots = [os.path.abspath(r) for r in _dirstate.default_roots()]
    files = _plugindirs.plugin_file_paths(roots) if _dirstate.STATE.auto else []
    modules = [*by_module, *(f"file:{f}" for f in files)]
    out: list[PluginFailure] = []
    stuck_files: dict[str, BaseException] = {}
    for stuck in probe(modules, timeout, roots):
        module = modules[stuck.number]
        what = f"plugin file {module[5:]}" if module.startswith("file:") else f"module {module}"
        error = TimeoutError(f"{what} {stuck.why}; the doctor did not import it. Fix: repair or "
                             "upgrade the plugin, or disable it (CODEX_ML_PLUGINS_DISABLE, or move "
                             "the file out of the plugin folder)")
        if module.startswith("file:"):
            stuck_files[module[5:]] = error
            continue
        for rec in by_module[module]:
            out.append(PluginFailure(rec.group.rpartition(".")[2], rec.name, _discovery.provenance_of(rec), error))
    return out, stuck_files


def parse_timeout(value: float | str) -> float:
    """``doctor --timeout N``: seconds, 0 turns the child-process check off."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise UsageProblem(f"--timeout must be a number of seconds >= 0 (0: no child-process check), got {value!r}")
    return seconds


def _rule(failure: PluginFailure) -> str:
    return failure.provenance.entry_point.partition(" = ")[0]


@contextmanager
def skipping(stuck: list[PluginFailure]) -> Iterator[None]:
    """Keep the doctor's own run away from the plugins that hung in the child.

    Passed down as settings whose disable rules also name the stuck entry
    points, never by editing os.environ.
    """
    if not stuck:
        yield
        return
    from codex_ml.registry._settings import current, overridden

    with overridden(disable=(*current().disable, *(_rule(f) for f in stuck))):
        yield


@contextmanager
def skipping_files(stuck: dict[str, BaseException]) -> Iterator[None]:
    """Plugin files that hung in the child are recorded as failed, never imported here."""
    from codex_ml.registry._dirstate import STATE

    saved = dict(STATE.skip)
    STATE.skip.update(stuck)
    try:
        yield
    finally:
        STATE.skip.clear()
        STATE.skip.update(saved)


def missing_extras_report(regs: list[Registry[Any]]) -> list[dict[str, Any]]:
    """Each optional extra that is not installed, and the built-ins that need it (by tag)."""
    from codex_ml._extras import install_hint, missing_extras

    out = []
    for extra, modules in missing_extras().items():
        needed = sorted(f"{r.kind}:{name}" for r in regs for name in r.list()
                        if r.entry(name).provenance.source == "built-in"
                        and extra in (r.metadata(name).get("tags") or ()))
        out.append({"extra": extra, "missing_modules": modules, "needed_by": needed,
                    "fix": install_hint(extra)})
    return out


def _discover(reg: Registry[Any], errors: list[str]) -> None:
    try:
        reg.discover(strict=False)
    except RegistryError as exc:  # recorded failures are read from the report below
        errors.append(f"{reg.kind}: {describe(exc)}")


def _load_every_entry(reg: Registry[Any]) -> None:
    """``--all``: import built-in and in-process entries too (recorded on failure)."""
    for name in reg.list():
        try:
            reg[name]
        except RegistryError:
            pass


def _registry_row(reg: Registry[Any]) -> dict[str, Any]:
    report = reg.report()
    return {"kind": reg.kind, "entry_point_group": reg.entry_point_group, "count": len(reg.list()),
            "loaded": list(report.loaded), "failed": len(report.failed),
            "collisions": len(report.collisions), "shadowed": len(report.shadowed)}


def catalogue_files(regs: list[Registry[Any]]) -> list[dict[str, Any]]:
    """File-backed entries: present or not (information; missing files are not a failure)."""
    rows = []
    for reg in regs:
        for name in reg.list():
            for status in files_info(reg.metadata(name)):
                rows.append({"kind": reg.kind, "name": name} | status)
    return rows


def entry_point_summary() -> dict[str, Any]:
    """How many codex_ml entry points are installed, from which distributions."""
    from codex_ml.registry import entry_point_index

    try:
        index = entry_point_index()
    except OSError:
        return {}
    dists = sorted({f"{r.distribution} {r.version}".strip() for r in index.records})
    return {"count": len(index.records), "distributions": dists, "index": index.source}
