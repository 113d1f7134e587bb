"""``doctor``: load every plugin, report each failure with its cause.

Strict mode (``CODEX_ML_PLUGINS_STRICT``) is switched off while the doctor
runs, so one broken plugin does not hide the next: the exit status does the
gating instead (non-zero when anything is broken).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from codex_ml.registry import Registry, RegistryError

from ._explain import all_failures
from ._inspect import describe, files_info, plugin_files
from ._kinds import every_registry


@contextmanager
def not_strict() -> Iterator[None]:
    saved = os.environ.pop("CODEX_ML_PLUGINS_STRICT", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["CODEX_ML_PLUGINS_STRICT"] = saved


def doctor_data(load_all: bool = False) -> dict[str, Any]:
    """Run discovery for every registry and gather what went wrong."""
    errors: list[str] = []
    with not_strict():
        regs = every_registry()
        for reg in regs:
            _discover(reg, errors)
            if load_all:
                _load_every_entry(reg)
    failures = all_failures(regs)
    files = plugin_files()
    collisions = [{"kind": r.kind, "message": m} for r in regs for m in r.report().collisions]
    problems = len(failures) + len(collisions) + len(files["failed"]) + len(files["refused"]) + len(errors)
    return {
        "ok": problems == 0, "problems": problems, "loaded_all": load_all,
        "registries": [_registry_row(r) for r in regs], "failures": failures,
        "collisions": collisions, "errors": errors,
        "shadowed": [{"kind": r.kind, "message": m} for r in regs for m in r.report().shadowed],
        "disabled": [{"kind": r.kind, "message": m} for r in regs for m in r.report().disabled],
        "plugin_files": files, "catalogue_files": catalogue_files(regs),
        "entry_points": entry_point_summary(),
        "missing_extras": missing_extras_report(regs),
    }


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
        reg.discover()
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
