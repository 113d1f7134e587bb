"""Checkpoints that survive a kill at any instant.

Layout inside a run directory::

    checkpoints/
      step-000100/model.safetensors   weights (safetensors: no pickle to load)
      step-000100/state.pt            optimizer, scheduler, RNG and step state
      latest                          the name of the newest complete checkpoint

Every file is written to a temporary name, flushed with ``fsync`` and moved
into place with ``os.replace``, and ``latest`` is replaced only after both
files of its checkpoint are on disk. A process killed mid-write therefore
leaves the previous checkpoint as ``latest``, never a torn one.
"""
from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model

from codex_ml.training.errors import CheckpointError

WEIGHTS = "model.safetensors"
STATE = "state.pt"
LATEST = "latest"


def _fsync_dir(path: Path) -> None:
    # The rename itself lives in the directory entry: flush it too (POSIX only).
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_save(write: Callable[[Path], None], path: Path) -> None:
    """Run ``write(tmp)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        write(tmp)


def capture_rng() -> dict[str, Any]:
    """Every random state that training consumes (dropout, data order fallbacks)."""
    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(root: Path, step: int, model: torch.nn.Module, state: dict[str, Any],
                    keep: int) -> Path:
    """Write weights and ``state`` for ``step``, point ``latest`` at them, prune old ones."""
    folder = root / f"step-{step:06d}"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_save(lambda tmp: save_model(model, str(tmp), metadata={"step": str(step)}),
                folder / WEIGHTS)
    atomic_save(lambda tmp: torch.save({**state, "step": step}, tmp), folder / STATE)
    atomic_write_text(root / LATEST, folder.name + "\n")
    _prune(root, keep=max(keep, 1), current=folder.name)
    return folder


def _prune(root: Path, keep: int, current: str) -> None:
    """Drop all but the newest ``keep`` complete checkpoints (never the current one)."""
    folders = sorted(p for p in root.glob("step-*") if p.is_dir())
    for old in folders[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(root: Path) -> Path | None:
    """The newest complete checkpoint folder under ``root``, or ``None``."""
    pointer = root / LATEST
    if not pointer.is_file():
        return None
    folder = root / pointer.read_text(encoding="utf-8").strip()
    if not (folder / WEIGHTS).is_file() or not (folder / STATE).is_file():
        raise CheckpointError(
            f"{pointer} names {folder.name}, but {folder} lacks {WEIGHTS} or {STATE}. "
            "The run directory was edited by hand; delete the pointer or restore the folder.")
    return folder


def load_weights(folder: Path, model: torch.nn.Module) -> None:
    """Load ``model.safetensors`` into ``model``, explaining a mismatch."""
    try:
        load_model(model, str(folder / WEIGHTS), strict=True)
    except (RuntimeError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"the weights in {folder / WEIGHTS} do not fit the model "
            f"{type(model).__name__}: {str(exc).splitlines()[0]}. The model config must match "
            "the one the run was trained with (see config.yaml in the run directory).") from exc


def load_state(folder: Path) -> dict[str, Any]:
    """The optimizer/scheduler/RNG/step state (tensors and plain data only)."""
    try:
        state: dict[str, Any] = torch.load(folder / STATE, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError) as exc:
        raise CheckpointError(f"could not read {folder / STATE}: {exc}. The file is damaged; "
                              "delete that checkpoint folder to fall back to an older one.") from exc
    return state
