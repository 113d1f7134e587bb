"""Thread safety (seed 004): first access from 64 threads runs discovery once."""

from __future__ import annotations

from pathlib import Path

from _support import env_with, run_json


def test_64_threads_first_access_discover_once(installed_examples: Path, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "counted.py").write_text(
        "import os\nfrom codex_ml.registry import register_metric\n"
        "with open(os.environ['COUNT_LOG'], 'a') as fh:\n    fh.write('x')\n"
        "register_metric('counted', lambda p, t=None: 1.0)\n")
    out = run_json("""
        import json, os, threading
        from codex_ml.registry import metric_registry
        from codex_ml.registry import _plugindirs
        barrier = threading.Barrier(64)
        seen, errors = [], []
        def worker():
            barrier.wait()
            try:
                seen.append(("counted" in metric_registry.list(), metric_registry.get("toy_metric") is not None))
            except Exception as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=worker) for _ in range(64)]
        [t.start() for t in threads]; [t.join() for t in threads]
        print(json.dumps({"scans": metric_registry.scan_count, "dir_runs": _plugindirs.STATE.runs,
                          "imports": open(os.environ["COUNT_LOG"]).read(), "seen": sorted(set(map(tuple, seen))),
                          "errors": errors, "n": len(seen)}))
    """, env=env_with(installed_examples, CODEX_ML_PLUGIN_PATH=str(plugins), COUNT_LOG=str(tmp_path / "n")))
    assert out["errors"] == [] and out["n"] == 64
    assert out["scans"] == 1 and out["dir_runs"] == 1 and out["imports"] == "x"
    assert out["seen"] == [[True, True]]


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
