"""Helpers shared by the tests: real distributions, real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_ml.registry import (
    data_loader_registry,
    metric_registry,
    model_registry,
    reward_model_registry,
    rl_agent_registry,
    tokenizer_registry,
    trainer_registry,
)

REPO = Path(__file__).resolve().parents[1]

# Every file-backed tiny fixture: resource id -> (its own environment variable,
# registry kind, catalogue name).
FILE_FIXTURES: dict[str, tuple[str, Any, str]] = {
    "tiny_tokenizer": ("CODEX_ML_TINY_TOKENIZER_PATH", tokenizer_registry, "offline:tiny-vocab"),
    "tiny_sequence": ("CODEX_ML_TINY_SEQUENCE_PATH", model_registry, "offline:tiny-sequence"),
    "tiny_corpus": ("CODEX_ML_TINY_CORPUS_PATH", data_loader_registry, "offline:tiny-corpus"),
    "weighted_accuracy": ("CODEX_ML_WEIGHTED_ACCURACY_PATH", metric_registry, "offline:weighted-accuracy"),
    "functional_trainer_config": ("CODEX_ML_FUNCTIONAL_TRAINER_CONFIG", trainer_registry,
                                  "offline:functional"),
    "length_reward": ("CODEX_ML_LENGTH_REWARD_PATH", reward_model_registry, "offline:length"),
    "scripted_agent": ("CODEX_ML_SCRIPTED_AGENT_PATH", rl_agent_registry, "offline:scripted"),
}
EXAMPLES = REPO / "examples" / "plugins"


def needs(*modules: str) -> pytest.MarkDecorator:
    """Skip unless every module is installed, without importing any (collection stays cheap)."""
    from importlib.util import find_spec

    missing = [m for m in modules if find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (pip install -e '.[all]')")


def pip_install(source: Path, target: Path, *more: Path) -> Path:
    """``pip install --no-deps --target`` a real distribution (no network, no isolation).

    A project written by :func:`make_package` is first packed into a wheel by :func:`wheel_of`
    (pip's build step runs setuptools in three subprocesses: a second per install); pip then
    installs that wheel as it would any other. Other projects are built by pip itself. ``more``
    projects are installed by the same pip command.

    Projects with the same files installed again into an empty folder are copied from the
    tree pip made of them the first time in this test run, by any pytest worker (new files
    and folders with pip's modes, as pip writes them): many tests set up one plugin in a new
    folder, and each worker installs the example plugins.
    """
    projects = (source, *more)
    empty = not (target.exists() and any(target.iterdir()))
    tree = PIP_TREES / _projects_key(projects) if empty and PIP_TREES.is_dir() else None
    if tree is not None and tree.is_dir():
        _copy_afresh(tree, target)
        return target
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
           "--no-index", "--disable-pip-version-check", "--target", str(target),
           *(str(wheel_of(project) or project) for project in projects)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=source)
    if tree is not None:
        _publish(target, tree)
    return target


# Set by tests/conftest.py in the first pytest process (workers inherit it); removed at its exit.
PIP_TREES = Path(os.environ.get("TESTS_PIP_TREES", "/nonexistent"))
_BUILT = ("build", "dist", "__pycache__")  # what building a project leaves in it


def _projects_key(projects: tuple[Path, ...]) -> str:
    """Every file of the projects (names and bytes), not what a build left there."""
    import hashlib

    digest = hashlib.sha256()
    for project in projects:
        digest.update(project.name.encode() + b"\0")
        for path in sorted(project.rglob("*")):
            rel = path.relative_to(project)
            if path.is_file() and not any(p in _BUILT or p.endswith(".egg-info") for p in rel.parts):
                digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _copy_afresh(tree: Path, target: Path) -> None:
    for folder, _, names in os.walk(tree):
        out = target / Path(folder).relative_to(tree)
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(os.path.join(folder, name), out / name)  # contents and mode, new times


def _publish(target: Path, tree: Path) -> None:
    """Keep what pip made in ``target`` as ``tree``; the first worker to finish wins."""
    staging = Path(shutil.copytree(target, tree.with_name(f"{tree.name}.{os.getpid()}")))
    try:
        staging.rename(tree)
    except OSError:  # another worker published the same projects meanwhile
        shutil.rmtree(staging, ignore_errors=True)


def wheel_of(project: Path) -> Path | None:
    """A wheel (PEP 427) of a :func:`make_package` project, read from disk now; None for other layouts."""
    import base64
    import hashlib
    import re
    import zipfile

    import tomllib

    config = tomllib.loads((project / "pyproject.toml").read_text())
    meta, tool = config.get("project", {}), config.get("tool", {}).get("setuptools", {})
    if set(meta) - {"name", "version", "entry-points"} or set(tool) - {"packages", "py-modules"}:
        return None
    stem = f"{re.sub(r'[-_.]+', '_', meta['name']).lower()}-{meta['version']}"
    files = {path.relative_to(project / "src").as_posix(): path.read_bytes()
             for path in sorted((project / "src").rglob("*.py"))}
    info = f"{stem}.dist-info"
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: tests/_support.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = "".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in items.items()) + "\n"
        for group, items in meta.get("entry-points", {}).items()).encode()
    files[f"{info}/top_level.txt"] = "".join(f"{top}\n" for top in sorted(
        {rel.split("/")[0].removesuffix(".py") for rel in files if not rel.startswith(info)})).encode()

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = "".join(f"{rel},sha256={digest(data)},{len(data)}\n" for rel, data in files.items())
    wheel = project / "dist" / f"{stem}-py3-none-any.whl"
    wheel.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel, data in files.items():
            archive.writestr(rel, data)
        archive.writestr(f"{info}/RECORD", record + f"{info}/RECORD,,\n")
    return wheel


def make_package(root: Path, name: str, entry_points: dict[str, dict[str, str]],
                 modules: dict[str, str], version: str = "0.1.0") -> Path:
    """Write a tiny installable project: ``modules`` maps file paths under src/ to code."""
    project = root / f"{name}-{version}-src"
    eps = "\n".join(
        f'[project.entry-points."{group}"]\n' + "\n".join(f'"{k}" = "{v}"' for k, v in items.items())
        for group, items in entry_points.items()
    )
    py_modules = [rel[:-3] for rel in modules if "/" not in rel and rel.endswith(".py")]
    (project / "src").mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "{version}"

        [tool.setuptools.packages.find]
        where = ["src"]
        """) + f"\n[tool.setuptools]\npy-modules = {py_modules!r}\n\n" + eps + "\n")
    for rel, code in modules.items():
        path = project / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
    return project


def installed_on_path(project: Path, tmp_path: Path, monkeypatch: Any, module: str) -> Iterator[Path]:
    """pip-install ``project`` into a folder put on ``sys.path`` for one test (index rebuilt around it)."""
    from codex_ml.registry import _epindex

    site = pip_install(project, tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    _epindex.invalidate()
    yield site
    sys.modules.pop(module, None)
    _epindex.invalidate()


def write(path: Path, text: str, mode: int = 0o644) -> Path:
    """Write ``text`` to ``path`` (folders made) with ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def env_with(*paths: Path | str, **extra: str) -> dict[str, str]:
    """os.environ with ``paths`` prepended to PYTHONPATH (keeping the network block)."""
    env = dict(os.environ)
    parts = [str(p) for p in paths] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.update(extra)
    return env


def run_py(code: str, *, env: dict[str, str] | None = None, cwd: Path | str | None = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; on failure show its output."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env or dict(os.environ),
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_json(code: str, **kwargs: object) -> object:
    """Run ``code`` that prints one JSON document as its last line; return it parsed."""
    proc = run_py(code, **kwargs)  # type: ignore[arg-type]
    return json.loads(proc.stdout.strip().splitlines()[-1])
