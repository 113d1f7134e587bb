"""What a run was trained on: versions, plugins, and a content hash of every file.

``provenance.json`` in a run folder holds:

* ``versions``: codex_ml, torch (when imported) and Python;
* ``components``: for each part the config named (model, tokenizer, dataset,
  trainer, metrics, reward model, agent), its registry name and where it came
  from (``built-in``, or the distribution and version of the plugin);
* ``artefacts``: for each file-backed part (model folder, tokenizer, data
  file) the config key that selects it, its resolved path and a SHA-256 of
  its content (a folder: of every file's relative path and content).

``codex-ml evaluate run_dir=...`` pins those paths and stops when a hash no
longer matches (:func:`check_artefacts`).
"""
from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

from codex_ml.catalogue.integrity import sha256_file as file_digest
from codex_ml.training.errors import ArtefactChangedError

PROVENANCE = "provenance.json"
# (config section, registry attribute, the key holding an explicit path)
FILE_BACKED = (("model", "model_registry", "path"),
               ("tokenizer", "tokenizer_registry", "path"),
               ("dataset_loader", "data_loader_registry", "path"))


def content_hash(path: Path) -> str:
    """SHA-256 of a file, or of a folder's sorted (relative path, file hash) pairs."""
    if path.is_file():
        return file_digest(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{file_digest(file)}\n".encode())
    return digest.hexdigest()


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for dist in ("codex-ml", "torch"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = "not installed"
    return found


def _origin(registry: Any, name: str) -> dict[str, Any]:
    prov = registry.entry(name).provenance
    origin: dict[str, Any] = {"name": name, "source": prov.source}
    if prov.distribution:
        version = prov.dist_version or (versions()["codex-ml"] if prov.distribution == "codex-ml" else "")
        origin.update(distribution=prov.distribution, version=version)
    if prov.file:
        origin["file"] = prov.file
    return origin


def components(cfg: dict[str, Any]) -> dict[str, Any]:
    """Registry name and origin of every component the config names."""
    from codex_ml import registry as reg

    wanted = [("model", reg.model_registry, (cfg.get("model") or {}).get("name")),
              ("tokenizer", reg.tokenizer_registry, (cfg.get("tokenizer") or {}).get("name")),
              ("dataset", reg.data_loader_registry, (cfg.get("dataset_loader") or {}).get("name")),
              ("trainer", reg.trainer_registry, (cfg.get("training") or {}).get("name")),
              ("reward_model", reg.reward_model_registry, (cfg.get("reward_model") or {}).get("name")),
              ("rl_agent", reg.rl_agent_registry, (cfg.get("rl_agent") or {}).get("name"))]
    wanted += [(f"metrics.{k}", reg.metric_registry, (v or {}).get("name"))
               for k, v in (cfg.get("metrics") or {}).items() if isinstance(v, dict)]
    return {part: _origin(registry, str(name)) for part, registry, name in wanted
            if name and str(name) in registry}


def _resource_path(registry: Any, name: str) -> Path | None:
    from codex_ml.catalogue import paths

    ids = registry.metadata(name).get("resource") if name in registry else None
    for resource in [ids] if isinstance(ids, str) else list(ids or []):
        try:
            return paths.resolve(str(resource))
        except (FileNotFoundError, KeyError):
            continue
    return None


def artefact_paths(cfg: dict[str, Any]) -> dict[str, tuple[str, Path]]:
    """``{section: (config key, resolved path)}`` for each file-backed part."""
    from codex_ml import registry as reg

    found: dict[str, tuple[str, Path]] = {}
    for section, attr, key in FILE_BACKED:
        part = cfg.get(section) or {}
        explicit = part.get(key) or (part.get("name_or_path") if section == "tokenizer" else None)
        path: Path | None = Path(str(explicit)).expanduser() if explicit else None
        if path is None and part.get("name"):
            path = _resource_path(getattr(reg, attr), str(part["name"]))
        if path is not None and path.exists():
            use = "name_or_path" if section == "tokenizer" and part.get("name_or_path") else key
            found[section] = (f"{section}.{use}", path.resolve())
    return found


def record(cfg: dict[str, Any]) -> dict[str, Any]:
    """The provenance of a run about to train on ``cfg``."""
    artefacts = {section: {"key": key, "path": str(path), "sha256": content_hash(path),
                           "kind": "folder" if path.is_dir() else "file"}
                 for section, (key, path) in artefact_paths(cfg).items()}
    return {"versions": versions(), "executable": sys.executable, "pid": os.getpid(),
            "components": components(cfg), "artefacts": artefacts}


def pin_artefacts(cfg: dict[str, Any], recorded: dict[str, Any]) -> None:
    """Point ``cfg`` at the files the run recorded (not wherever the environment points today).

    A recorded file that is gone (the project moved) is left to the usual search instead, as
    it was found at training time.
    """
    for section, art in (recorded.get("artefacts") or {}).items():
        if not os.path.exists(art["path"]):
            continue
        part = cfg.setdefault(section, {})
        part[str(art["key"]).split(".", 1)[1]] = art["path"]


def changed_artefacts(recorded: dict[str, Any]) -> list[str]:
    """One line per recorded artefact that is gone or whose content changed."""
    changed = []
    for section, art in (recorded.get("artefacts") or {}).items():
        path = Path(art["path"])
        if not path.exists():
            changed.append(f"{section} {path} ({art['key']}) is gone (moved or deleted)")
        elif content_hash(path) != art["sha256"]:
            changed.append(f"{section} {path} ({art['key']}) changed since training "
                           f"(sha256 {art['sha256'][:12]}... recorded)")
    return changed


def check_artefacts(run_dir: Path, recorded: dict[str, Any], allow: bool) -> list[str]:
    """The changed artefacts; an error unless ``allow`` (``evaluate.allow_changed=true``)."""
    changed = changed_artefacts(recorded)
    if changed and not allow:
        raise ArtefactChangedError(
            f"refusing to evaluate {run_dir}: {'; '.join(changed)}. The scores would not be of "
            f"the model that was trained. Restore the files, or pass evaluate.allow_changed=true "
            "to evaluate anyway (the result file records it).", changed)
    return changed
