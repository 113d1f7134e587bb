"""Directory plugins (docs/guides/directory_plugins.md): import every ``.py`` file under plugin roots.

Roots come from ``CODEX_ML_PLUGIN_PATH`` (``os.pathsep``-separated), else
``./plugins`` when it exists. Each file is imported under a module name made
from its full path, so two ``model.py`` files in different folders never
collide. Files and folders that other users could write are refused, as ssh
refuses a world-writable key: importing them would run anyone's code. The
checks (every folder from ``/`` down, symlinks included) and the reading of
each file from the descriptor that was checked live in :mod:`._fsafe`;
sibling helper files imported through ``sys.path`` get the same treatment
from :mod:`._pluginimport` (docs/guides/directory_plugins.md).
"""

from __future__ import annotations

import os
import sys

from . import _fsafe
from ._context import loading
from ._dirstate import STATE, DirReport
from ._entry import PLUGIN_FILE, Provenance
from ._errors import UnsafeFileError, describe_exception
from ._errors import warn_once as _warn_once

# A plugin file is source code someone edits by hand; anything larger is not one.
MAX_PLUGIN_BYTES = 16 << 20


def scan(roots: list[str]) -> DirReport:
    """Import the plugin files under ``roots`` (``_dirstate.discover_plugins`` holds the lock)."""
    from . import _pluginimport

    report = DirReport(roots=list(roots))
    trust = _fsafe.Trust()
    usable = [root for root in roots if _usable_root(root, report, trust)]
    _pluginimport.HOOK.start([os.path.realpath(r) for r in usable], trust, _warn_once)
    for root in usable:
        for path in _plugin_files(root, report, trust):
            skipped = STATE.skip.get(os.path.abspath(path))
            if skipped is not None:
                report.failed[path] = skipped
            else:
                _import_file(path, report, trust)
    return report


def plugin_file_paths(roots: list[str]) -> list[str]:
    """The files discovery would import under ``roots``: checked, none imported."""
    report, trust = DirReport(roots=list(roots)), _fsafe.Trust()
    usable = [root for root in roots if _usable_root(root, report, trust)]
    return [os.path.abspath(p) for root in usable for p in _plugin_files(root, report, trust)]


def probe_import(path: str, roots: list[str]) -> None:
    """Import one plugin file as discovery would (the doctor's child process does this)."""
    from . import _pluginimport

    trust = _fsafe.Trust()
    _pluginimport.HOOK.start([os.path.realpath(r) for r in roots], trust, _warn_once)
    _import_file(path, DirReport(roots=list(roots)), trust)


def _usable_root(root: str, report: DirReport, trust: _fsafe.Trust) -> bool:
    if not os.path.isdir(root):
        report.missing[root] = not_a_folder(root)
        _warn_once(f"Plugin folder {_display(root)} {report.missing[root]}: nothing is imported from it. Fix: "
                   "create it, or correct CODEX_ML_PLUGIN_PATH (or the paths given to discover_plugins).",
                   key=f"missing:{root}")
        return False
    problem = unsafe_reason(root, trust)
    if problem:
        _refuse(root, problem, report)
    return not problem


def not_a_folder(path: str) -> str:
    """Why ``path`` cannot be a plugin folder (it is not one)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return "is a link to nothing" if os.path.islink(path) else "does not exist"
    except OSError as exc:
        return f"cannot be reached ({exc.strerror})"
    return "is a file, not a folder"


def _plugin_files(root: str, report: DirReport, trust: _fsafe.Trust) -> list[str]:
    files: list[str] = []
    visited: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in visited:  # a symlink loop
            dirnames[:] = []
            continue
        visited.add(real)
        if "__pycache__" in dirnames:
            _check_pycache(os.path.join(dirpath, "__pycache__"), report, trust)
        dirnames[:] = sorted(d for d in dirnames if _wanted_dir(os.path.join(dirpath, d), report, trust))
        files.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return files


def _wanted_dir(path: str, report: DirReport, trust: _fsafe.Trust) -> bool:
    name = os.path.basename(path)
    if name.startswith(".") or name == "__pycache__":
        return False
    problem = unsafe_reason(path, trust)
    if problem:
        _refuse(path, problem, report)
    return not problem


def _check_pycache(path: str, report: DirReport, trust: _fsafe.Trust) -> None:
    """Plugin code never reads bytecode; a cache others can write is still worth a warning."""
    problem = unsafe_reason(path, trust)
    if problem:
        report.refused[path] = f"{problem}; its bytecode is never used"
        _warn_once(
            f"Ignored {_display(path)}: {problem}, so anyone could plant bytecode there. Plugin files "
            f"and their helpers are compiled from source and never read or write it. Fix: rm -r {_display(path)}",
            key=f"refused:{path}",
        )


def unsafe_reason(path: str, trust: _fsafe.Trust | None = None) -> str:
    """Why ``path`` (or what its symlink points at) is unsafe to import, or ''.

    Every folder from ``/`` down to it, and on the way through every symlink,
    must be owned by you or root and not writable by others (:mod:`._fsafe`).
    """
    return _fsafe.check(path, trust)


def _refuse(path: str, problem: str, report: DirReport) -> None:
    report.refused[path] = problem
    _warn_once(
        f"Refused plugin {_display(path)}: {problem}. Importing it would run code others can "
        f"change. Fix: chmod go-w {_display(path)} (and its folders), or remove it.",
        key=f"refused:{path}",
    )


def _read_source(path: str, report: DirReport, trust: _fsafe.Trust) -> tuple[bytes, str] | None:
    """The bytes of ``path`` read from the descriptor that was checked, or None (refused)."""
    try:
        return _fsafe.read_checked(path, trust, max_bytes=MAX_PLUGIN_BYTES)
    except UnsafeFileError as exc:
        _refuse(path, exc.reason, report)
    except OSError as exc:
        _refuse(path, f"cannot be read ({describe_exception(exc)})", report)
    return None


def _import_file(path: str, report: DirReport, trust: _fsafe.Trust) -> None:
    import importlib.util

    from . import _pluginimport

    read = _read_source(path, report, trust)
    if read is None:
        return
    source, real = read
    name = module_name(path)
    known = _pluginimport.HOOK.modules.get(real)
    if known is not None:  # already imported as a helper through sys.path: never run a file twice
        sys.modules[name] = known
        report.loaded.append(path)
        return
    provenance = Provenance(PLUGIN_FILE, module=name, file=os.path.abspath(path))
    try:
        # Compiled from the bytes just checked, never from __pycache__: a .pyc
        # beside a safe file could have been planted by anyone who can write there.
        code = compile(source, os.path.abspath(path), "exec", dont_inherit=True)
        spec = importlib.util.spec_from_loader(name, loader=None, origin=os.path.abspath(path))
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        module.__file__ = os.path.abspath(path)
        sys.modules[name] = _pluginimport.HOOK.modules[real] = module
        with loading(provenance):
            exec(code, module.__dict__)
        report.loaded.append(path)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: a plugin never ends the application
        sys.modules.pop(name, None)
        _pluginimport.HOOK.modules.pop(real, None)
        report.failed[path] = exc
        _warn_once(
            f"Failed to import plugin {_display(path)}: {describe_exception(exc)}. "
            "Check your plugin file for errors; `codex-ml doctor` lists every broken plugin.",
            key=f"failed:{path}:{describe_exception(exc)}",
        )


def module_name(path: str) -> str:
    """A module name unique to the file's absolute path, by construction.

    The path's bytes are escaped one to one (letters and digits stay, every
    other byte becomes ``_`` and two hex digits), so two paths never share a
    name, unlike a short hash.
    """
    raw = os.fsencode(os.path.abspath(path))
    escaped = "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"_{b:02x}" for b in raw)
    return f"codex_ml_plugin_{escaped}"


def _display(path: str) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel
