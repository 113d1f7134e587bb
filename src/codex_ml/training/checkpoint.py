"""Checkpoints that survive a kill at any instant.

Layout inside a run directory::

    checkpoints/
      step-000100/model.safetensors   weights (safetensors: loading runs no pickle)
      step-000100/state.pt            optimizer, scheduler, RNG and step state
      latest                          the name of the newest complete checkpoint

(a model that is not PyTorch, the tiny sequence model, writes ``model.json``
instead of the two files). Every file is written to a temporary name,
flushed with ``fsync`` and moved into place with ``os.replace``, and
``latest`` is replaced only after all files of its checkpoint are on disk. A
process killed mid-write therefore leaves the previous checkpoint as
``latest``, never a torn one.

torch and safetensors are imported inside the functions that need them, so
the torch-free tiny-fixture path can use the same layout.
"""
from __future__ import annotations

import os
import pickle
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codex_ml.training.atomic import atomic_write_bytes, atomic_write_text
from codex_ml.training.errors import CheckpointError

WEIGHTS = "model.safetensors"
STATE = "state.pt"
JSON_MODEL = "model.json"
LATEST = "latest"
STATE_KEYS = ("optimizer", "scheduler", "rng", "step")
STEP_NAME = re.compile(r"step-\d{6,12}")
_POINTER_LIMIT = 256


def folder_for(root: Path, step: int) -> Path:
    return root / f"step-{step:06d}"


def commit(root: Path, folder: Path, keep: int) -> Path:
    """Point ``latest`` at ``folder`` (whose files are written) and prune older ones."""
    atomic_write_text(root / LATEST, folder.name + "\n")
    folders = sorted(p for p in root.glob("step-*") if p.is_dir())
    for old in folders[:-max(keep, 1)]:
        if old.name != folder.name:
            shutil.rmtree(old, ignore_errors=True)
    return folder


def read_small_file(path: Path, limit: int) -> str:
    """A small file a run folder holds (a pointer, a record), read the safe way.

    Regular files only, opened without following a final symlink and without
    blocking, from folders that only the user (or root) can write; a FIFO, a
    device, a symlink or an oversized file planted by someone else is refused,
    never read (docs/reliability.md).
    """
    from codex_ml.registry._errors import UnsafeFileError
    from codex_ml.registry._fsafe import read_small_file as read_safely

    try:
        data = read_safely(path, max_bytes=limit)
    except UnsafeFileError as exc:  # its paragraph names the file, the reason and the fix
        raise CheckpointError(str(exc)) from exc
    except OSError as exc:
        raise CheckpointError(f"refusing to read {path}: {exc.strerror or exc}. It must be a plain file of "
                              "this run (not a symlink, FIFO or large file, in folders only you can "
                              "write).") from exc
    return data.decode("utf-8", errors="replace")


def _earlier(root: Path, folder: Path) -> str:
    steps = sorted((p.name for p in root.glob("step-*") if p.is_dir() and p.name < folder.name),
                   reverse=True)
    if not steps:
        return "There is no earlier checkpoint: start the run again (another training.run_name)."
    return (f"Earlier checkpoints: {', '.join(steps)}. To evaluate or generate from one, add "
            f"checkpoint={steps[0]}; to resume training from it, point {root / LATEST} at it "
            f"(echo {steps[0]} > {root / LATEST}) and rerun with training.resume=true.")


def pointed_folder(root: Path) -> Path | None:
    """The folder ``latest`` names: a ``step-NNNNNN`` folder inside ``root`` itself, or None."""
    pointer = root / LATEST
    if not os.path.lexists(pointer):
        return None
    name = read_small_file(pointer, _POINTER_LIMIT).strip()
    if not STEP_NAME.fullmatch(name):
        raise CheckpointError(f"{pointer} holds {name[:60]!r}, not a checkpoint folder name "
                              "(step-NNNNNN inside the same checkpoints folder). Fix or delete it.")
    folder = root / name
    if folder.is_symlink() or not folder.is_dir():
        raise CheckpointError(f"{pointer} names {name}, but {folder} is not a folder of this run "
                              f"(missing, or a symlink). {_earlier(root, folder)}")
    return folder


def latest_checkpoint(root: Path, required: tuple[str, ...] = (WEIGHTS, STATE)) -> Path | None:
    """The newest complete checkpoint folder under ``root``, or ``None`` if there is none."""
    folder = pointed_folder(root)
    if folder is None:
        return None
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(
            f"{root / LATEST} names {folder.name}, but {folder} lacks {', '.join(missing)}. The "
            f"run directory was changed by hand; restore that folder. {_earlier(root, folder)}")
    return folder


def step_of(folder: Path) -> int:
    return int(folder.name.split("-", 1)[1])


def save_json_model(root: Path, step: int, state: dict[str, Any], keep: int,
                    dump: Callable[[dict[str, Any]], str]) -> Path:
    """Checkpoint a model whose state is JSON (the tiny sequence model)."""
    folder = folder_for(root, step)
    atomic_write_text(folder / JSON_MODEL, dump(state))
    return commit(root, folder, keep)


# ----------------------------------------------------------------- PyTorch
def capture_rng() -> dict[str, Any]:
    """Every random state training consumes (dropout, sampling in evaluation)."""
    import torch

    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _weights_bytes(model: Any, metadata: dict[str, str]) -> bytes:
    """``model``'s weights as safetensors bytes, tied tensors stored once.

    A tied weight (lm_head sharing the embedding) appears in the state dict
    under two names with one storage; safetensors refuses shared storage, so
    the second name is dropped, as ``save_model`` does (``load_model`` restores it).
    """
    from safetensors.torch import save

    kept: dict[tuple[Any, ...], str] = {}
    tensors = {}
    for name, tensor in model.state_dict().items():
        view = (tensor.data_ptr(), tensor.dtype, tuple(tensor.shape), tensor.stride())
        if tensor.numel() and view in kept:
            metadata[name] = kept[view]
            continue
        kept[view] = name
        tensors[name] = tensor.detach().contiguous().cpu()
    return save(tensors, metadata=metadata)


def save_torch(root: Path, step: int, model: Any, state: dict[str, Any], keep: int) -> Path:
    """Write weights and ``state`` for ``step``, then point ``latest`` at them.

    Both files are serialised in memory and written by Python, so a full disk
    is an ``OSError`` with its errno, reported as a :class:`CheckpointError`
    that says the previous checkpoint is intact.
    """
    import io

    import torch

    folder = folder_for(root, step)
    weights = _weights_bytes(model, {"step": str(step)})
    buffer = io.BytesIO()
    torch.save({**state, "step": step}, buffer)
    previous_folder = pointed_folder(root)
    previous = previous_folder.name if previous_folder is not None else None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / WEIGHTS, weights)
        atomic_write_bytes(folder / STATE, buffer.getvalue())
        return commit(root, folder, keep)
    except OSError as exc:
        intact = (f"the previous checkpoint {root / previous} is intact and resumable"
                  if previous else "there is no earlier checkpoint")
        raise CheckpointError(
            f"could not write checkpoint {folder}: {exc.strerror or exc}; {intact}. Free disk "
            "space (or raise the file-size limit), then rerun with training.resume=true.") from exc


def load_weights(folder: Path, model: Any) -> None:
    """Load ``model.safetensors`` into ``model``, explaining a mismatch."""
    from safetensors.torch import load_model

    from codex_ml.catalogue.integrity import require_safe_tree

    require_safe_tree(folder)  # its files too: a run folder of ours may hold a file others can write
    try:
        load_model(model, str(folder / WEIGHTS), strict=True)
    except Exception as exc:
        if "SafetensorError" in type(exc).__name__ or "header" in str(exc).lower():
            raise CheckpointError(
                f"{folder / WEIGHTS} is damaged or incomplete ({str(exc).splitlines()[0]}). "
                f"{_earlier(folder.parent, folder)}") from exc
        raise CheckpointError(
            f"the weights in {folder / WEIGHTS} do not fit the model {type(model).__name__}: "
            f"{str(exc).splitlines()[0]}. The model config must match the one the run was "
            "trained with (config.yaml in the run directory).") from exc


def load_state(folder: Path) -> dict[str, Any]:
    """The optimizer/scheduler/RNG/step state: tensors and plain data only (weights_only)."""
    import torch

    try:
        state: dict[str, Any] = torch.load(folder / STATE, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError) as exc:
        # weights_only refuses anything but tensors and plain data (UnpicklingError).
        raise CheckpointError(f"could not read {folder / STATE}: {exc}. The file is damaged. "
                              f"{_earlier(folder.parent, folder)}") from exc
    missing = [k for k in STATE_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(f"{folder / STATE} is incomplete: it lacks {', '.join(missing)}. "
                              f"{_earlier(folder.parent, folder)}")
    return state
