"""Directory plugins (docs/guides/directory_plugins.md): import every ``.py`` file under plugin roots.

Roots come from ``CODEX_ML_PLUGIN_PATH`` (``os.pathsep``-separated), else
``./plugins`` when it exists. Each file is imported under a module name made
from its full path, so two ``model.py`` files in different folders never
collide. Files and folders that other users could write are refused, as ssh
refuses a world-writable key: importing them would run anyone's code.
"""

from __future__ import annotations

import _thread
import os
import stat
import sys
import warnings
import zlib

from ._context import loading
from ._entry import PLUGIN_FILE, Provenance
from ._errors import PluginWarning, describe_exception

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


class DirReport:
    """What one discovery pass over the plugin directories did."""

    __slots__ = ("roots", "loaded", "failed", "refused")

    def __init__(self, roots: list[str] | None = None) -> None:
        self.roots: list[str] = list(roots or ())
        self.loaded: list[str] = []
        self.failed: dict[str, BaseException] = {}
        self.refused: dict[str, str] = {}


class _State:
    def __init__(self) -> None:
        self.lock = _thread.RLock()
        self.auto = True
        self.ran = False
        self.owner: int | None = None  # the thread running discovery now
        self.report = DirReport()
        self.stamps: dict[str, int] = {}
        self.warned: set[str] = set()
        self.runs = 0


STATE = _State()


def default_roots() -> list[str]:
    from . import _settings

    configured = _settings.current().plugin_path
    if configured is not None:
        return list(configured)
    return ["plugins"] if os.path.isdir("plugins") else []


def set_auto_discover(enabled: bool) -> None:
    """Turn discovery on first registry access on or off."""
    STATE.auto = bool(enabled)


def reset_discovery() -> None:
    """Forget what ran: the next access or ``discover_plugins()`` scans again."""
    with STATE.lock:
        STATE.ran = False
        STATE.report = DirReport()
        STATE.stamps = {}


def ensure_discovered() -> None:
    """Auto-discovery on first access (cheap when done or disabled).

    Other threads wait on the lock for a run in progress; a plugin file that
    calls back into the registry from its own import returns at once.
    """
    if STATE.ran or not STATE.auto or STATE.owner == _thread.get_ident():
        return
    discover_plugins()


def discover_plugins(paths: Sequence[str | os.PathLike[str]] | None = None, force: bool = False) -> DirReport:
    """Import every plugin file under ``paths`` (default roots when None)."""
    with STATE.lock:
        if STATE.owner is not None or (STATE.ran and not force and paths is None):
            return STATE.report
        STATE.owner = _thread.get_ident()
        try:
            roots = [os.fspath(p) for p in paths] if paths is not None else default_roots()
            report = _discover(roots)
            STATE.report, STATE.ran, STATE.runs = report, True, STATE.runs + 1
            STATE.stamps = snapshot_stamps(roots)
            return report
        finally:
            STATE.owner = None


def _discover(roots: list[str]) -> DirReport:
    report = DirReport(roots=list(roots))
    for root in roots:
        for path in _plugin_files(root, report):
            _import_file(path, report)
    return report


def _plugin_files(root: str, report: DirReport) -> Iterable[str]:
    if not os.path.isdir(root):
        return []
    problem = unsafe_reason(root)
    if problem:
        _refuse(root, problem, report)
        return []
    files: list[str] = []
    visited: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in visited:  # a symlink loop
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if _wanted_dir(os.path.join(dirpath, d), report))
        files.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return [f for f in files if _safe_file(f, report)]


def _wanted_dir(path: str, report: DirReport) -> bool:
    name = os.path.basename(path)
    if name.startswith(".") or name == "__pycache__":
        return False
    problem = unsafe_reason(path)
    if problem:
        _refuse(path, problem, report)
    return not problem


def _safe_file(path: str, report: DirReport) -> bool:
    problem = unsafe_reason(path)
    if problem:
        _refuse(path, problem, report)
    return not problem


def unsafe_reason(path: str) -> str:
    """Why ``path`` (or what its symlink points at) is unsafe to import, or ''."""
    if not hasattr(os, "getuid"):
        return ""
    try:
        link, target = os.lstat(path), os.stat(path)
    except OSError as exc:
        return f"cannot be read ({describe_exception(exc)})"
    for st, what in ((target, "it"), (link, "the symlink")):
        if st.st_uid not in (os.getuid(), 0):
            return f"{what} is owned by uid {st.st_uid}, not by you or root"
    if stat.S_ISLNK(link.st_mode) and _replaceable(os.path.dirname(os.path.realpath(path))):
        return f"its symlink target {os.path.realpath(path)} lies in a folder others can write"
    if _unsafe_mode(target):
        return f"it is writable by other users (mode {stat.S_IMODE(target.st_mode):o})"
    return ""


def _unsafe_mode(st: os.stat_result) -> bool:
    if st.st_mode & stat.S_IWOTH:
        return True
    return bool(st.st_mode & stat.S_IWGRP) and not _private_group(st.st_gid)


def _replaceable(folder: str) -> bool:
    """Others could swap a file in ``folder`` (writable, no sticky bit as /tmp has)."""
    try:
        st = os.stat(folder)
    except OSError:
        return True
    return _unsafe_mode(st) and not st.st_mode & stat.S_ISVTX


def _private_group(gid: int) -> bool:
    """A group only the user belongs to (user-private groups, umask 002)."""
    try:
        import grp
        import pwd

        user = pwd.getpwuid(os.getuid()).pw_name
        return gid == os.getgid() and set(grp.getgrgid(gid).gr_mem) <= {user}
    except (ImportError, KeyError):
        return False


def _refuse(path: str, problem: str, report: DirReport) -> None:
    report.refused[path] = problem
    _warn_once(
        f"Refused plugin {_display(path)}: {problem}. Importing it would run code others can "
        f"change. Fix: chmod go-w {_display(path)} (and its folders), or remove it.",
        key=f"refused:{path}",
    )


def _import_file(path: str, report: DirReport) -> None:
    import importlib.util

    name = module_name(path)
    provenance = Provenance(PLUGIN_FILE, module=name, file=os.path.abspath(path))
    try:
        # Compile from the source just checked, never from __pycache__: a .pyc
        # beside a safe file could have been planted by anyone who can write there.
        with open(path, "rb") as fh:
            code = compile(fh.read(), os.path.abspath(path), "exec", dont_inherit=True)
        spec = importlib.util.spec_from_loader(name, loader=None, origin=os.path.abspath(path))
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        module.__file__ = os.path.abspath(path)
        sys.modules[name] = module
        with loading(provenance):
            exec(code, module.__dict__)
        report.loaded.append(path)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: a plugin never ends the application
        sys.modules.pop(name, None)
        report.failed[path] = exc
        _warn_once(
            f"Failed to import plugin {_display(path)}: {describe_exception(exc)}. "
            "Check your plugin file for errors; `codex-ml doctor` lists every broken plugin.",
            key=f"failed:{path}:{describe_exception(exc)}",
        )


def module_name(path: str) -> str:
    """A module name unique to the file's absolute path."""
    absolute = os.path.abspath(path)
    stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    return f"codex_ml_plugin_{stem}_{zlib.crc32(absolute.encode()):08x}"


def _display(path: str) -> str:
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel


def _warn_once(message: str, key: str) -> None:
    if key in STATE.warned:
        return
    STATE.warned.add(key)
    warnings.warn(message, PluginWarning, stacklevel=3)


def snapshot_stamps(roots: Iterable[str]) -> dict[str, int]:
    """mtime of every folder and .py file under the roots (for auto-refresh)."""
    stamps: dict[str, int] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
            for p in [dirpath, *(os.path.join(dirpath, f) for f in filenames if f.endswith(".py"))]:
                try:
                    stamps[p] = os.stat(p).st_mtime_ns
                except OSError:
                    pass
    return stamps


def changed() -> bool:
    return STATE.ran and snapshot_stamps(STATE.report.roots) != STATE.stamps
