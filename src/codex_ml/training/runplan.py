"""Which folder a run writes, who may write it, and whether a resume is safe.

Everything here happens BEFORE the first byte is written to a run folder:

* :func:`pick_run_dir` names the folder (``<output_dir>/<run_name>``, a fresh
  timestamp, or for ``training.resume=true`` without a name the one run that
  can be continued; several candidates are refused as ambiguous). Hydra's
  default ``hydra.run.dir`` calls it through the ``codex_ml.run_dir`` resolver, and
  ``hydra.sweep.dir`` starts from the same ``output_dir`` (``codex_ml.output_root``).
* :class:`RunLock` holds an exclusive ``flock`` on the folder itself while a
  run writes it, so a second run of the same ``run_name`` fails at once
  instead of mixing files (locking the folder's descriptor creates no file).
* :func:`plan_run` refuses a resume whose config differs from the saved
  ``config.yaml`` in anything but :data:`SAFE_KEYS`; the run then continues
  with the SAVED config (plus those safe changes).
"""
from __future__ import annotations

import copy
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.settings import TrainSettings

CHECKPOINTS, LATEST, METRICS, CONFIG, SUMMARY = "checkpoints", "latest", "metrics.jsonl", "config.yaml", "summary.json"
# Keys a resume may change: how long to train, where to run, how often to report.
SAFE_KEYS = ("training.max_steps", "training.resume", "training.run_name", "training.output_dir",
             "training.device", "training.log_interval", "training.eval_interval",
             "training.eval_batches", "training.checkpoint_interval", "training.keep_checkpoints",
             "training.plot", "evaluate", "reward_model", "rl_agent", "run_dir", "checkpoint", "interfaces")


def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


# A folder this module named from the clock (``_timestamp``), with ``-N`` when taken.
_STAMPED = re.compile(r"(\d{8}-\d{6})(?:-\d+)?")


def _unique(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... when two runs start in the same second."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


_RUN_NAME = re.compile(r"[A-Za-z0-9._-]+")


def check_run_name(run_name: str | None, root: Path) -> None:
    """A new run's name is one word to a shell (the printed `evaluate run_dir=...` pastes); a run
    folder that already exists under ``root`` keeps the name it has (to resume it)."""
    if run_name is None:
        return
    if not run_name or "/" in run_name or run_name in (".", ".."):
        raise TrainingConfigError(f"training.run_name={run_name!r} is not a folder name; "
                                  "use letters, digits, '-', '_' or '.'.")
    if not _RUN_NAME.fullmatch(run_name) and not (root / run_name).is_dir():
        raise TrainingConfigError(f"training.run_name={run_name!r}: a new run's name may use only "
                                  "letters, digits, '-', '_' or '.' (so that its folder is one word "
                                  "in a shell).")


def resumable(root: Path) -> list[Path]:
    """Runs under ``root`` that have a checkpoint, newest first."""
    runs = [p.parent.parent for p in root.glob(f"*/{CHECKPOINTS}/{LATEST}")]
    return sorted(runs, key=lambda p: (p / CHECKPOINTS / LATEST).stat().st_mtime, reverse=True)


def pick_resumable(root: Path) -> Path | None:
    """The one run ``training.resume=true`` can mean, or an error when several could."""
    runs = resumable(root)
    unfinished = [p for p in runs if not (p / SUMMARY).exists()]
    if len(runs) <= 1 or len(unfinished) == 1:
        return unfinished[0] if len(unfinished) == 1 else (runs[0] if runs else None)
    candidates = unfinished or runs
    more = len(candidates) - 6
    names = ", ".join(p.name for p in candidates[:6]) + (f" and {more} more, newest first" if more > 0 else "")
    raise TrainingConfigError(
        f"training.resume=true without training.run_name is ambiguous: {root} holds "
        f"{len(candidates)} runs that could be continued ({names}). Name one: "
        "training.run_name=<one of those> training.resume=true.")


def output_root(output_dir: Any) -> Path:
    """The folder runs go in: ``training.output_dir``, or ``runs`` when it is null."""
    return Path(output_dir or "runs").expanduser()


# Output folders that did not exist when a run of this process picked its folder: a run refused
# before writing may remove them again (when empty), never a folder the user had made.
_MISSING_ROOTS: set[Path] = set()


def pick_run_dir(output_dir: str | None, run_name: str | None, resume: bool) -> Path:
    """The folder a run with these settings writes (nothing is created)."""
    root = output_root(output_dir)
    if not root.exists():
        _MISSING_ROOTS.add(root.absolute())
    check_run_name(run_name, root)
    if run_name:
        return root / run_name
    if resume:
        found = pick_resumable(root)
        if found is not None:
            return found
    return _unique(root / _timestamp())


def hydra_run_dir(command: str, output_dir: Any, run_name: Any, resume: Any, run_dir: Any) -> str:
    """``hydra.run.dir`` of ``config.yaml``: the run folder for ``train``; for ``evaluate`` the
    evaluated run (or ``.``), so Hydra creates nothing new. ``command`` is the one that runs
    (bound by the CLI when it registers the resolver), never a ``hydra.*`` key a user can set."""
    if command != "train":
        return str(run_dir) if run_dir else "."
    if os.environ.get("RANK", "0") != "0":  # torchrun: rank 0 picks and broadcasts the folder
        return "."
    return str(pick_run_dir(output_dir, run_name, bool(resume)))


def hydra_sweep_root(output_dir: Any) -> str:
    """The folder ``hydra.sweep.dir`` of ``config.yaml`` starts from: where single runs go too."""
    return str(output_root(output_dir))


class RunLock:
    """An exclusive ``flock`` on a run folder's own descriptor (no lock file to leave behind)."""

    def __init__(self, path: Path) -> None:
        self.path, self._fd = path, -1

    def acquire(self) -> RunLock:
        if not self.try_acquire():
            raise TrainingConfigError(
                f"another codex-ml run is writing {self.path} right now (it holds the folder's "
                "lock). Wait for it to finish, or pick another training.run_name.")
        return self

    def try_acquire(self) -> bool:
        """Lock the folder (made if missing); False when another process holds it."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no locking
            return True
        self.path.mkdir(parents=True, exist_ok=True)
        fd = open_own_folder(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self, drop_if_empty: bool = False) -> None:
        """Unlock; ``drop_if_empty``: a run that failed before writing leaves no empty folder."""
        if self._fd >= 0 and drop_if_empty:
            try:
                self.path.rmdir()  # only succeeds when empty; we still hold the lock
            except OSError:
                pass
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = -1


def open_own_folder(path: Path) -> int:
    """A descriptor of the run folder, when no other account can change what it holds: the
    user's own (or root's), and every folder above it, and every link on the way to it, safe
    (docs/reliability.md, "Threat model"); a folder another account planted or can swap is refused."""
    from codex_ml.registry import _fsafe

    problem = _fsafe.check(path)  # follows a link, checking its owner and every folder to its target
    if not problem:
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(os.path.realpath(path), flags)
        except OSError as exc:
            raise TrainingConfigError(f"cannot use {path} as a run folder: {exc.strerror}.") from None
        here, there = os.fstat(fd), os.stat(path)
        if (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino):
            return fd
        os.close(fd)
        problem = "it was replaced while it was being checked"
    _drop_if_empty(path)
    raise TrainingConfigError(
        f"refusing to write a run into {path}: {problem}. Another account could change the run's "
        "files there. Fix: pick a training.output_dir in a folder only you (or root) can write.")


def _drop_if_empty(path: Path) -> None:
    """A refused run folder that is the user's own and empty (just made for this run) goes."""
    try:
        st = os.lstat(path)
        if st.st_uid == os.getuid() and not any(path.iterdir()):
            path.rmdir()
    except OSError:
        pass


@dataclass
class Plan:
    """The folder a run writes, locked; whether it resumes; the config it runs with."""

    path: Path
    resumed: bool
    cfg: dict[str, Any]
    lock: RunLock
    restart: bool = False  # killed before its first checkpoint: its metrics are dropped
    notes: list[str] = field(default_factory=list)


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_leaves(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def _safe(key: str) -> bool:
    return any(key == s or key.startswith(s + ".") for s in SAFE_KEYS)


def _assign(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def resumed_config(path: Path, saved: dict[str, Any], requested: dict[str, Any]) -> dict[str, Any]:
    """The saved config with the requested safe changes, or an error naming what differs."""
    old, new = _leaves(saved), _leaves(requested)
    differ = sorted(k for k in set(old) | set(new) if old.get(k, "<absent>") != new.get(k, "<absent>"))
    unsafe = [k for k in differ if not _safe(k)]
    if unsafe:
        shown = "; ".join(f"{k}: {old.get(k, '<absent>')!r} in the run, {new.get(k, '<absent>')!r} "
                          "requested" for k in unsafe[:6])
        raise TrainingConfigError(
            f"cannot resume {path}: the requested config differs from the one it was trained "
            f"with ({path / CONFIG}) in {len(unsafe)} key(s): {shown}. A resume may change only "
            f"{', '.join(SAFE_KEYS)}. Drop the other overrides to continue the run as it was, or "
            "start a new run (another training.run_name). Nothing in the run folder was changed.")
    merged = copy.deepcopy(saved)
    for key in differ:
        if key in new:
            _assign(merged, key, new[key])
    return merged


def _picked(path: Path, has_checkpoint: bool) -> str:
    if has_checkpoint:
        return (f"training.resume=true without training.run_name: continuing {path}, the one run "
                "under training.output_dir that can be continued.")
    return (f"training.resume=true without training.run_name: no run under training.output_dir "
            f"has a checkpoint to continue; starting {path}.")


def _nothing_to_resume(path: Path) -> str:
    """A resume of a run that is not there: said, because a misspelt name would start afresh
    (a job that always asks to resume, as a requeued one does, starts this way the first time)."""
    from codex_ml.registry._search import close_matches

    others = [p.name for p in resumable(path.parent)]
    close = close_matches(path.name, others, n=1)
    hint = (f" Did you mean training.run_name={close[0]}?" if close else
            f" Runs there that can be continued: {', '.join(others[:6])}." if others else "")
    return f"training.resume=true: {path} holds no run to continue, so it starts at step 0.{hint}"


def _lock_stamped(path: Path, base: Path) -> RunLock:
    """A folder named from the clock, locked: runs started in the same second both picked
    ``path``, so whichever finds it taken (locked, or holding a run) takes the next free name."""
    while True:
        lock = RunLock(path)
        if lock.try_acquire():
            if not (path / METRICS).exists():
                return lock
            lock.release()
        path = _unique(base)


def give_up(lock: RunLock, output_dir: str | None) -> None:
    """Unlock a run that failed before writing, leaving no empty folder it made."""
    lock.release(drop_if_empty=True)
    drop_empty(lock.path, output_dir)


def drop_empty(run: Path, output_dir: str | None) -> None:
    """A run that failed before writing leaves no empty run folder, nor an empty output folder
    above it that the run itself made (a folder the user made stays)."""
    root = output_root(output_dir)
    made = run.parent.absolute() == root.absolute() and root.absolute() in _MISSING_ROOTS
    for folder in [run, root] if made else [run]:
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass


def plan_run(cfg: dict[str, Any], run_dir: Path | None, settings: TrainSettings) -> Plan:
    """Pick, lock and check the run folder and the loggers the run names; write nothing."""
    from codex_ml.loggers.hub import check_loggers
    from codex_ml.training.rundir import read_config

    resume, run_name = settings.resume, settings.run_name
    path = run_dir if run_dir is not None else pick_run_dir(settings.output_dir, run_name, resume)
    stamped = None if run_name or resume else _STAMPED.fullmatch(path.name)
    lock = _lock_stamped(path, path.with_name(stamped.group(1))) if stamped else RunLock(path).acquire()
    path = lock.path
    try:
        check_loggers(cfg)  # a misspelt logger is a config mistake, not a logger switched off
        has_checkpoint = (path / CHECKPOINTS / LATEST).is_file()
        notes = [_picked(path, has_checkpoint)] if resume and not run_name else []
        if resume and run_name and not has_checkpoint and not (path / METRICS).exists():
            notes.append(_nothing_to_resume(path))
        if resume and has_checkpoint:
            merged = resumed_config(path, read_config(path), cfg)
            return Plan(path, True, merged, lock, notes=notes)
        if (path / METRICS).exists() and not resume:
            raise TrainingConfigError(
                f"{path} already holds a run. Continue it with training.resume=true, or pick "
                "another training.run_name (or none, for a timestamped folder).")
        return Plan(path, False, cfg, lock, restart=resume and (path / METRICS).exists(), notes=notes)
    except BaseException:
        give_up(lock, settings.output_dir)
        raise
