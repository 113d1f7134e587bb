"""A fresh, isolated registry world for tests (yours and plugin authors').

``with isolated(): ...`` starts from what a new process sees after
``import codex_ml``: every registry holds only the built-in catalogue, no
discovery has run, no warning has been given, settings are read afresh. On
exit everything is put back: the registries, discovery state, caches,
``sys.path``, ``os.environ`` and the modules imported inside. The pytest
fixture ``registry_world`` does the same around one test; enable it with
``-p codex_ml.registry.testing`` or ``pytest_plugins = ["codex_ml.registry.testing"]``.
See docs/guides/testing.md.
"""

from __future__ import annotations

import os
import sys

from . import _context, _dirstate, _discovery, _epindex, _errors, _settings
from ._directory import all_registries, registries
from ._entry import BUILTIN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from typing import Any

__all__ = ["World", "isolated", "registry_world"]


class World:
    """What ``isolated()`` saved; ``enter()`` starts the fresh world, ``exit()`` restores."""

    def __init__(self, env: Mapping[str, str] | None = None, sys_path: Sequence[str] = ()) -> None:
        self.env = dict(env or {})
        self.sys_path = [os.fspath(p) for p in sys_path]
        self._saved: list[Any] = []

    def enter(self) -> World:
        self._saved = [list(sys.path), dict(os.environ), set(sys.modules), _global_state()]
        self._snapshots = [reg.snapshot() for reg in [registries, *all_registries()]]
        for snap in self._snapshots:
            snap.__enter__()
        os.environ.update(self.env)
        sys.path[:0] = self.sys_path
        _fresh_globals()
        for reg in all_registries():
            reg.forget_discovery(keep=_is_builtin)
        return self

    def exit(self) -> None:
        path, env, modules, state = self._saved
        added = [os.path.join(os.path.abspath(p), "") for p in sys.path if p and p not in path]
        sys.path[:] = path
        os.environ.clear()
        os.environ.update(env)
        for name in set(sys.modules) - modules:
            if _from_the_world(name, added):
                sys.modules.pop(name, None)
        for snap in reversed(self._snapshots):
            snap.__exit__(None, None, None)
        _restore_globals(state)

    def __enter__(self) -> World:
        return self.enter()

    def __exit__(self, *exc: object) -> None:
        self.exit()


def _from_the_world(name: str, added: list[str]) -> bool:
    """Plugin modules imported inside the world: plugin files, and code from folders it put on sys.path.

    Everything else imported meanwhile (the standard library, torch ...) stays:
    a C extension cannot be imported twice in one process.
    """
    if name.startswith("codex_ml_plugin_"):
        return True
    file = getattr(sys.modules.get(name), "__file__", None) or ""
    return bool(file) and any(os.path.abspath(file).startswith(p) for p in added)


def isolated(env: Mapping[str, str] | None = None, sys_path: Sequence[str] = ()) -> World:
    """``with isolated(env={...}, sys_path=[site]): ...``: a fresh world, restored on exit."""
    return World(env, sys_path)


def _is_builtin(entry: Any) -> bool:
    return bool(entry.provenance.source == BUILTIN)


def _global_state() -> tuple[Any, ...]:
    dirs = _dirstate.STATE
    return (dict(dirs.__dict__), set(_errors.WARNED), _discovery.BUNDLES.__dict__.copy(),
            _epindex._memo, _settings.saved(), dict(_context.OWNERS))


def _fresh_globals() -> None:
    dirs = _dirstate.STATE
    dirs.auto, dirs.ran, dirs.report, dirs.stamps = True, False, _dirstate.DirReport(), {}
    _errors.WARNED.clear()
    _discovery.BUNDLES.reset()
    _epindex.invalidate()
    _settings.restore((None, None))  # read from the world's own environment, no override in force
    _context.OWNERS.clear()


def _restore_globals(state: tuple[Any, ...]) -> None:
    dirs, warned, bundles, memo, settings, owners = state
    _dirstate.STATE.__dict__.update(dirs)
    _errors.WARNED.clear()
    _errors.WARNED.update(warned)
    _discovery.BUNDLES.__dict__.update(bundles)
    _epindex._memo = memo
    _settings.restore(settings)
    _context.OWNERS.clear()
    _context.OWNERS.update(owners)


def pytest_configure(config: Any) -> None:
    """Registered as a pytest plugin: nothing to set up beyond the fixture."""


def _fixture() -> Any:
    import pytest

    @pytest.fixture
    def registry_world() -> Iterator[World]:
        """A fresh, isolated registry world for one test."""
        with isolated() as world:
            yield world

    return registry_world


if "pytest" in sys.modules:
    registry_world = _fixture()
