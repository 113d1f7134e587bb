"""``codex_ml.registry.testing``: a fresh world in-process, everything put back on exit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from _support import write

from codex_ml.registry import Registry, metric_registry, model_registry, registries
from codex_ml.registry._settings import current
from codex_ml.registry.testing import World, isolated


def test_the_world_starts_fresh_and_everything_is_put_back(tmp_path: Path) -> None:
    write(tmp_path / "site" / "world_probe.py", "VALUE = 1\n")
    metric_registry.register("outer-metric", len)
    try:
        before_path, before_env = list(sys.path), dict(os.environ)
        with isolated(env={"CODEX_ML_PLUGINS_STRICT": "1"}, sys_path=[str(tmp_path / "site")]) as world:
            assert isinstance(world, World)
            assert "outer-metric" not in metric_registry  # a new process would not have it
            assert "exact_match" in metric_registry  # the built-in catalogue is there
            assert current().strict  # settings read afresh inside
            import world_probe  # type: ignore[import-not-found]

            assert world_probe.VALUE == 1
            import colorsys  # noqa: F401 - a standard module imported inside stays imported
            Registry("world_kind")
            model_registry.register("inner-model", type("M", (), {"forward": lambda self, x: x}))
        assert "outer-metric" in metric_registry and "inner-model" not in model_registry
        assert "world_kind" not in registries and "world_probe" not in sys.modules
        assert "colorsys" in sys.modules
        assert sys.path == before_path and dict(os.environ) == before_env
        assert not current().strict
    finally:
        metric_registry.unregister("outer-metric")


def test_worlds_nest_and_restore_in_order() -> None:
    with isolated():
        metric_registry.register("level-one", len)
        with isolated():
            assert "level-one" not in metric_registry
            metric_registry.register("level-two", abs)
        assert "level-one" in metric_registry and "level-two" not in metric_registry
    assert "level-one" not in metric_registry


def test_an_isolated_world_reads_its_own_settings_inside_an_overridden_block() -> None:
    from codex_ml.registry._settings import current, overridden

    with overridden(strict=True):
        with isolated(env={"CODEX_ML_PLUGINS_STRICT": "0"}):
            assert current().strict is False
        assert current().strict is True  # the block's own choice is back
