"""Shared test set-up: no network, offline Hugging Face, helpers for subprocesses."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex_ml.registry import Registry

NETBLOCK = Path(__file__).parent / "netblock"

# Every process the suite starts imports sitecustomize from here: the network
# is blocked in subprocesses and torchrun workers too, not only in this one.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(NETBLOCK), os.environ.get("PYTHONPATH", "")) if p
)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# Keep the user's real cache out of the tests.
os.environ.setdefault("CODEX_ML_CACHE", "0")
# The suite runs many small torch processes at once on few cores: one intra-op
# thread each, or OpenMP's spinning threads slow every one of them many times over.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, str(NETBLOCK))
import sitecustomize as _netblock

if getattr(_netblock, "NetworkBlockedError", None) is None:  # another sitecustomize won
    import importlib.util

    spec = importlib.util.spec_from_file_location("_codex_netblock", NETBLOCK / "sitecustomize.py")
    assert spec and spec.loader
    _mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(_mod)


# What pip installed, kept for the whole run and shared by every pytest worker (they inherit
# this variable from the first process): tests/_support.py's pip_install copies it again.
if "TESTS_PIP_TREES" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["TESTS_PIP_TREES"] = tempfile.mkdtemp(prefix="codex-pip-trees-")
    atexit.register(shutil.rmtree, os.environ["TESTS_PIP_TREES"], ignore_errors=True)

import _prewarm
import pytest
from _support import EXAMPLES, pip_install

_prewarm.share()  # one prewarmed command server for every worker of this run


@pytest.fixture(scope="session")
def installed_examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example plugin of examples/plugins pip-installed into one --target folder."""
    target = tmp_path_factory.mktemp("site")
    projects = [project for project in sorted(EXAMPLES.iterdir()) if (project / "pyproject.toml").exists()]
    return pip_install(projects[0], target, *projects[1:])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No catalogue variable set, and an empty working directory (returned)."""
    from codex_ml.catalogue import paths

    for var in paths.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


@pytest.fixture
def fresh() -> Registry:
    """A private registry (not published in the registry of registries)."""
    from codex_ml.registry import Registry

    return Registry("widgets", entry_point_group="codex_ml.test_widgets", publish=False)


@pytest.fixture(autouse=True)
def _settings_follow_the_environment() -> Iterator[None]:
    """Settings are read once per process: give each test the environment it sets up."""
    from codex_ml.registry import reload_settings

    reload_settings()
    yield
    reload_settings()


# The longest test files, longest first (measured with --durations=0): with one worker per
# core and each file on one worker (pyproject.toml), a file starts when a worker is free, so
# starting the long ones first leaves only short ones for the end and the workers finish together.
LONG = ("test_docs_examples.py", "test_stress_registry.py", "test_fuzz_inputs.py", "test_hydra_cli.py",
        "test_cli_train.py", "test_reliability_training.py", "test_distributed_torchrun.py",
        "test_run_folders.py", "test_cli_app.py", "test_training_main_job.py", "test_docs_site_browser.py",
        "test_epindex_cache.py", "test_export.py", "test_fuzz_registry.py", "test_cli_plugins.py",
        "test_reliability_plugins.py", "test_checkpoint_resume.py", "test_no_network.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return LONG.index(item.path.name) if item.path.name in LONG else len(LONG)

    items.sort(key=rank)  # stable: a file's tests, and the other files, keep their order
