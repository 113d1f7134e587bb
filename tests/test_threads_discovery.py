"""Discovery from many threads: first use, plugin passes, settings and imports that cross them.

Each test here failed on the code before its fix (a concurrency review found
them with reproducers); docs/reliability.md lists what each one guarantees.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from pathlib import Path

import pytest
from _support import env_with, run_json, write

from codex_ml.registry.testing import isolated


def test_a_module_imported_on_first_use_is_never_handed_out_half_built(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Modules imported on first use were taken from sys.modules while another thread still ran
    them ("partially initialized module ... has no attribute 'register'" when 8 threads made
    their first register() at once). Here a module's body blocks until released."""
    import importlib.abc
    import importlib.util

    from codex_ml.registry import LazyModule

    name = "codex_ml.registry._half_built_probe"
    started, release = threading.Event(), threading.Event()

    class Loader(importlib.abc.Loader):
        def create_module(self, spec: object) -> None:
            return None

        def exec_module(self, module: object) -> None:
            started.set()
            release.wait(10)
            module.VALUE = 1  # type: ignore[attr-defined]

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname: str, path: object = None, target: object = None) -> object:
            return importlib.util.spec_from_loader(fullname, Loader()) if fullname == name else None

    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, name, raising=False)
    importer = threading.Thread(target=importlib.import_module, args=(name,))
    importer.start()
    started.wait(10)  # in sys.modules now, its body still running
    threading.Timer(0.2, release.set).start()
    home: dict[str, object] = {}
    try:
        assert LazyModule(name.rpartition(".")[2], home).VALUE == 1  # waited for the import
    finally:
        release.set()
        importer.join()
    assert home[name.rpartition(".")[2]] is sys.modules[name]


DEADLOCK = """
import json, os, sys, threading
sys.path.insert(0, os.environ["SHARED_LIB"])
STARTED = threading.Event()
from codex_ml.registry import metric_registry

importer = threading.Thread(target=lambda: __import__("sharedmod"), daemon=True)
importer.start()
STARTED.wait(10)  # sharedmod's import is under way in that thread
first = threading.Thread(target=metric_registry.list, daemon=True)  # the first access: a plugin pass
first.start()
importer.join(30)
first.join(30)
alive = [importer.is_alive(), first.is_alive()]
names = [] if any(alive) else [n for n in metric_registry.list() if n.startswith("deadlock")]
print(json.dumps({"alive": alive, "names": names}))
sys.stdout.flush()
os._exit(0)  # hung threads hold locks that the interpreter's exit would wait for
"""

SHARED = """
import sys, time
sys.modules["__main__"].STARTED.set()
from codex_ml.registry import _dirstate, metric_registry
deadline = time.monotonic() + 10
while _dirstate.STATE.owner is None and time.monotonic() < deadline:
    time.sleep(0.01)  # the plugin pass has begun in the other thread
SEEN = metric_registry.list()  # import-time code that uses a registry
"""


def test_a_module_imported_by_a_plugin_and_by_another_thread_at_once_does_not_deadlock(
        tmp_path: Path) -> None:
    """The pass waits for the module's import, whose body waits for the pass: both hung."""
    write(tmp_path / "lib" / "sharedmod.py", SHARED)
    write(tmp_path / "plugins" / "uses_shared.py",
          "import sharedmod\nfrom codex_ml.registry import register_metric\n"
          "register_metric('deadlock-probe', lambda p, t=None: 1.0)\n")
    out = run_json(DEADLOCK, env=env_with(CODEX_ML_CACHE="0", SHARED_LIB=str(tmp_path / "lib"),
                                          CODEX_ML_PLUGIN_PATH=str(tmp_path / "plugins")), cwd=tmp_path)
    assert out == {"alive": [False, False], "names": ["deadlock-probe"]}


def test_a_plugin_pass_survives_an_import_cache_entry_deleted_under_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pass forgets the finders of folders in its roots while importlib.invalidate_caches() in
    another thread may delete the same entries: the pass raised KeyError."""
    from codex_ml.registry import discover_plugins
    from codex_ml.registry._pluginimport import Hook

    root = tmp_path / "plugins"
    write(root / "lib" / "helper.py", "VALUE = 1\n")
    entry = str(root / "lib")
    monkeypatch.setitem(sys.path_importer_cache, entry, None)
    claims = Hook._claims

    def claims_while_another_thread_invalidates(self: Hook, path: str) -> bool:
        sys.path_importer_cache.pop(entry, None)
        return claims(self, path)

    monkeypatch.setattr(Hook, "_claims", claims_while_another_thread_invalidates)
    with isolated(env={"CODEX_ML_PLUGIN_PATH": str(root)}):
        report = discover_plugins(force=True)
    assert report.failed == {} and report.loaded == [str(root / "lib" / "helper.py")]


def test_a_new_pass_leaves_a_helper_that_is_still_being_imported_alone(tmp_path: Path) -> None:
    """A new pass took the helpers it had served out of sys.modules, also one whose import was
    running: the import system then failed that import with KeyError."""
    from codex_ml.registry import discover_plugins

    root = tmp_path / "plugins"
    write(root / "main.py", "import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), '.lib'))\n")
    write(root / ".lib" / "passing_helper.py",  # a hidden folder: a helper, not a plugin file
          "from codex_ml.registry import discover_plugins\ndiscover_plugins(force=True)\nVALUE = 1\n")
    with isolated(env={"CODEX_ML_PLUGIN_PATH": str(root)}):
        discover_plugins()
        module = importlib.import_module("passing_helper")  # a new pass starts inside its import
        assert module.VALUE == 1 and sys.modules["passing_helper"] is module


def test_ctrl_c_while_a_cached_listing_reads_its_keys_leaves_it_able_to_try_again() -> None:
    """The listing forgot how to read its keys before reading them: after Ctrl-C there, every
    lookup in that group raised "a listing without keys and nothing to read them from"."""
    from codex_ml.registry._table import Listing

    tries: list[int] = []

    def more() -> Listing:
        tries.append(1)
        if len(tries) == 1:
            raise KeyboardInterrupt  # Ctrl-C during the read of the keys block
        return Listing(["a-b", "c"], ["a_b", "c"], ["0", "1"], (), (), ())

    listing = Listing.decode("\n\n\na-b\tc\n", more)
    with pytest.raises(KeyboardInterrupt):
        listing.position("a_b")
    assert listing.position("a_b") == 0 and listing.row(1) == 1 and len(tries) == 2


def test_a_second_discover_waits_for_the_first_ones_hooks(tmp_path: Path) -> None:
    """The second thread's discover(strict=True) returned ok while the first one was still
    running a hook that then failed."""
    from codex_ml.registry import Registry, RegistryLoadError

    info = tmp_path / "site" / "slow_hook-1.0.dist-info"
    write(info / "METADATA", "Metadata-Version: 2.1\nName: slow-hook\nVersion: 1.0\n")
    write(info / "entry_points.txt", "[codex_ml.test_slow_hooks]\nslow = slow_hook_mod:register\n")
    write(tmp_path / "site" / "slow_hook_mod.py",
          "import time\ndef register(register_fn):\n    time.sleep(0.5)\n    raise RuntimeError('broken hook')\n")
    outcome: dict[str, object] = {}
    with isolated(sys_path=[str(tmp_path / "site")]):
        reg = Registry("slow hooks", entry_point_group="codex_ml.test_slow_hooks", publish=False)

        def second() -> None:
            time.sleep(0.1)  # the first discover() is inside the slow hook
            try:
                outcome["second"] = reg.discover(strict=True)
            except RegistryLoadError as exc:
                outcome["second"] = exc

        thread = threading.Thread(target=second)
        thread.start()
        with pytest.warns(UserWarning, match="broken hook"):
            first = reg.discover()
        thread.join()
    assert len(first.failed) == 1
    assert isinstance(outcome["second"], RegistryLoadError), outcome
    assert "broken hook" in str(outcome["second"])


def test_settings_overridden_in_one_thread_are_that_threads_only() -> None:
    """overridden() swapped the process's settings: other threads saw them, and two overlapping
    blocks restored each other's, leaving strict=True in force after both ended."""
    from codex_ml.registry._settings import current, overridden

    base = current()
    inside, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with overridden(strict=not base.strict):
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(10)
    with overridden(disable=("nothing",)) as mine:
        seen.append(current().strict)
        release.set()
        thread.join()
        assert current() is mine
    assert seen == [base.strict] and current() is base


def test_a_plugin_file_edited_while_the_pass_runs_is_imported_again(tmp_path: Path) -> None:
    """Stamps were taken after the pass: an edit made during it was recorded as seen, and
    neither auto-refresh nor refresh() ever imported the new code."""
    from codex_ml.registry import _dirstate, metric_registry

    root = tmp_path / "plugins"
    answer = "from codex_ml.registry import register_metric\nregister_metric('answer', lambda p, t=None: {!r})\n"
    write(root / "a.py", answer.format("v1"))
    later = (f"import os, pathlib\npath = pathlib.Path({str(root / 'a.py')!r})\n"
             f"path.write_text({answer.format('v2')!r})\nos.utime(path, ns=(1, 10**18))\n")
    write(root / "b.py", later)  # imported after a.py: an editor saving a.py during the pass
    with isolated(env={"CODEX_ML_PLUGIN_PATH": str(root)}):
        assert metric_registry.get("answer")([]) == "v1"
        assert _dirstate.changed()
        metric_registry.refresh()
        assert metric_registry.get("answer")([]) == "v2"


def test_a_plugin_that_waits_for_a_thread_calling_discover_does_not_hang(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second discover() waits for the first one's hooks and loading, but plugin code run by
    the first may itself wait (a join Python cannot see) for that second call: it waits only so
    long, then answers with what is known, and says so."""
    from codex_ml.registry import PluginWarning, Registry, _world

    monkeypatch.setattr(_world, "DISCOVERY_PATIENCE", 0.3)
    info = tmp_path / "site" / "joining_plug-1.0.dist-info"
    write(info / "METADATA", "Metadata-Version: 2.1\nName: joining-plug\nVersion: 1.0\n")
    write(info / "entry_points.txt", "[codex_ml.test_joining]\nwidget = joining_plug:Widget\n")
    write(tmp_path / "site" / "joining_plug.py",  # its import waits for a thread that calls discover()
          "import builtins, threading\nhelper = threading.Thread(target=builtins.JOINING.discover, daemon=True)\n"
          "helper.start()\nhelper.join(30)\nSTILL_WAITING = helper.is_alive()\nclass Widget:\n    pass\n")
    with isolated(sys_path=[str(tmp_path / "site")]):
        reg = Registry("joining", entry_point_group="codex_ml.test_joining", publish=False)
        monkeypatch.setattr("builtins.JOINING", reg, raising=False)
        with pytest.warns(PluginWarning, match="another thread's first discovery is still running"):
            report = reg.discover()
        assert report.failed == [] and "widget" in reg
        assert sys.modules["joining_plug"].STILL_WAITING is False
