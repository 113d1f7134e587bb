"""Thread safety: first access from 64 threads runs discovery once (in-process, isolated world)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from codex_ml.registry.testing import isolated


def test_64_threads_first_access_discover_once(installed_examples: Path, tmp_path: Path) -> None:
    from codex_ml.registry import _dirstate, metric_registry

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    log = tmp_path / "n"
    (plugins / "counted.py").write_text(
        "import os\nfrom codex_ml.registry import register_metric\n"
        "with open(os.environ['COUNT_LOG'], 'a') as fh:\n    fh.write('x')\n"
        "register_metric('counted', lambda p, t=None: 1.0)\n")
    env = {"CODEX_ML_PLUGIN_PATH": str(plugins), "COUNT_LOG": str(log)}
    with isolated(sys_path=[str(installed_examples)], env=env):
        scans, runs = metric_registry.source.scan_count, _dirstate.STATE.runs
        barrier = threading.Barrier(64)
        seen: list[tuple[bool, bool]] = []
        errors: list[str] = []

        def worker() -> None:
            barrier.wait()
            try:
                seen.append(("counted" in metric_registry.list(), metric_registry.get("toy_metric") is not None))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(exc))

        threads = [threading.Thread(target=worker) for _ in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(seen) == 64
        assert metric_registry.source.scan_count - scans == 1 and _dirstate.STATE.runs - runs == 1
        assert log.read_text() == "x" and set(seen) == {(True, True)}


def test_concurrent_register_and_lookup() -> None:
    import threading

    from codex_ml.registry import Registry

    reg = Registry("concurrent", publish=False)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for j in range(200):
                name = f"c{i}-{j}"
                obj = (i, j)
                reg.register(name, obj, factory=False)
                assert reg.get(name) is obj and name in reg
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == [] and len(reg.list()) == 16 * 200


def test_a_change_made_while_a_lookup_loads_is_never_hidden_by_the_hot_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot path remembers an object without a lock: a writer that changes the table while
    a lookup is loading (here, the import of the component itself) must win afterwards."""
    import sys
    import types

    from codex_ml.registry import Registry

    reg = Registry("hot", publish=False, factory=False)
    (tmp_path / "hot_target.py").write_text(
        "import sys\nsys.modules['hot_holder'].reg.unregister('racy')\nVALUE = ('loaded',)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "hot_holder", types.SimpleNamespace(reg=reg))
    reg.register_lazy("racy", "hot_target:VALUE")
    assert reg.get("racy") == ("loaded",)  # this lookup began before the unregister
    assert reg.get("racy") is None and "racy" not in reg  # the next one sees it
    with pytest.raises(KeyError, match="racy"):
        reg["racy"]


def test_refresh_survives_another_thread_invalidating_the_import_caches_at_the_same_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython's path finder deletes stale ``sys.path_importer_cache`` entries while walking a
    copy of it: a second thread doing the same deletes an entry first and the walk raises
    ``KeyError`` (seen in the 16-thread stress run). Here a finder plays that thread, once."""
    import sys

    from codex_ml.registry import Registry

    later = "/nonexistent/codex-ml-stale-entry"
    after = "/nonexistent/codex-ml-after-it"
    calls: list[str] = []

    class OtherThread:  # a finder whose invalidation runs just as the other thread's would
        def invalidate_caches(self) -> None:
            calls.append("racer")
            sys.path_importer_cache.pop(later, None)

    class Witness:
        def invalidate_caches(self) -> None:
            calls.append("witness")

    monkeypatch.setitem(sys.path_importer_cache, "/nonexistent/codex-ml-racer", OtherThread())
    monkeypatch.setitem(sys.path_importer_cache, later, None)
    monkeypatch.setitem(sys.path_importer_cache, after, Witness())
    reg = Registry("racing", entry_point_group="codex_ml.test_racing", publish=False)
    reg.refresh()
    assert later not in sys.path_importer_cache
    assert calls[-1] == "witness"  # the walk went on past the entry that vanished under it
