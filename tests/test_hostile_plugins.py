"""Plugin folders against a hostile neighbour, with real second accounts (issue 10, item 1).

A victim account runs discovery; an attacker account writes wherever the
filesystem lets it. Evil plugin code writes a marker file: "never ran" is
proved by the marker's absence. See docs/reliability.md, "Threat model".
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import random
import string
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from _accounts import Account, Accounts, accounts_fixture, give  # noqa: F401  (the fixture)
from _support import env_with, run_json

from codex_ml.registry._plugindirs import module_name

PROBE = """
    import json, warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from codex_ml.registry import _dirstate, metric_registry
        names = metric_registry.list()
    report = _dirstate.STATE.report
    print(json.dumps({"names": sorted(n for n in names if n.startswith("hx-")), "refused": report.refused,
                      "loaded": report.loaded, "failed": {k: repr(v) for k, v in report.failed.items()},
                      "warnings": [str(w.message) for w in caught]}))
"""


def good(name: str) -> str:
    return f"from codex_ml.registry import register_metric\nregister_metric({name!r}, lambda p, t=None: 1.0)\n"


def evil(marker: Path) -> str:
    return f"import pathlib\npathlib.Path({str(marker)!r}).write_text('attacker code ran')\n" + good("hx-evil")


def discover_as(acc: Accounts, who: Account, root: Path, timeout: float = 60) -> dict[str, Any]:
    proc = acc.run(who, PROBE, timeout=timeout, CODEX_ML_PLUGIN_PATH=str(root))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def scene(accounts: Accounts, request: pytest.FixtureRequest) -> tuple[Accounts, Path, Path]:
    """A fresh folder for this test (root, 0755) and a marker path only the victim can create."""
    here = accounts.folder(request.node.name.replace("[", "_").replace("]", ""), None)
    markers = accounts.folder(f"{here.name}/markers", accounts.victim, 0o700)
    return accounts, here, markers / "pwned"


def victim_plugins(acc: Accounts, parent: Path, files: dict[str, str]) -> Path:
    root = acc.folder(str((parent / "plugins").relative_to(acc.base)), acc.victim)
    for name, text in files.items():
        acc.file(root / name, text, acc.victim)
    return root


def test_plugin_root_inside_a_folder_another_account_owns_is_refused(scene: Any) -> None:
    acc, here, marker = scene
    theirs = acc.folder(f"{here.name}/theirs", acc.attacker)
    root = victim_plugins(acc, theirs, {"mine.py": good("hx-mine")})
    out = discover_as(acc, acc.victim, root)
    assert out["names"] == [] and out["loaded"] == []
    assert out["refused"][str(root)] == (f"the folder {theirs} on its path is owned by uid {acc.attacker.uid} "
                                         f"({acc.attacker.name}), not by you or root")
    # what the rule prevents: the owner of that folder swaps the plugins for theirs
    proc = acc.run(acc.attacker, f"""
        import os, pathlib
        os.rename({str(root)!r}, {str(root)!r} + ".old")
        os.mkdir({str(root)!r})
        pathlib.Path({str(root)!r}, "evil.py").write_text({evil(marker)!r})
    """)
    assert proc.returncode == 0, proc.stderr
    out = discover_as(acc, acc.victim, root)
    assert out["names"] == [] and not marker.exists()


def test_plugin_root_below_a_folder_others_can_write_is_refused(scene: Any) -> None:
    acc, here, _ = scene
    shared = acc.folder(f"{here.name}/shared", None, 0o777)  # no sticky bit: anyone may rename entries
    root = victim_plugins(acc, shared, {"mine.py": good("hx-mine")})
    out = discover_as(acc, acc.victim, root)
    assert out["names"] == []
    assert out["refused"][str(root)] == f"the folder {shared} on its path is writable by other users (mode 777)"
    assert any("Refused plugin" in w and "chmod go-w" in w for w in out["warnings"])


def test_a_symlink_hop_through_an_attacker_folder_is_refused(scene: Any) -> None:
    """plugins/tools -> theirs/hop -> mine/lib: the final target is safe, the hop is not."""
    acc, here, marker = scene
    mine = acc.folder(f"{here.name}/mine", acc.victim)
    lib = acc.folder(f"{here.name}/mine/lib", acc.victim)
    acc.file(lib / "tool.py", good("hx-tool"), acc.victim)
    theirs = acc.folder(f"{here.name}/theirs", acc.attacker)
    (theirs / "hop").symlink_to(lib, target_is_directory=True)
    give(theirs / "hop", acc.attacker, 0o777)
    root = victim_plugins(acc, mine, {"mine.py": good("hx-mine")})
    (root / "tools").symlink_to(theirs / "hop", target_is_directory=True)
    give(root / "tools", acc.victim, 0o777)
    out = discover_as(acc, acc.victim, root)
    assert out["names"] == ["hx-mine"]
    assert out["refused"][str(root / "tools")] == (
        f"the folder {theirs} on the way to its symlink target {lib} is owned by uid {acc.attacker.uid} "
        f"({acc.attacker.name}), not by you or root")
    proc = acc.run(acc.attacker, f"""
        import os, pathlib
        evil = pathlib.Path({str(theirs)!r}, "evil"); evil.mkdir()
        (evil / "tool.py").write_text({evil(marker)!r})
        os.symlink(evil, {str(theirs / "hop.new")!r}); os.replace({str(theirs / "hop.new")!r}, {str(theirs / "hop")!r})
    """)
    assert proc.returncode == 0, proc.stderr
    assert discover_as(acc, acc.victim, root)["names"] == ["hx-mine"] and not marker.exists()


def test_a_sticky_shared_folder_trusts_only_the_users_own_entries(scene: Any) -> None:
    acc, here, marker = scene
    sticky = acc.folder(f"{here.name}/tmp", None, 0o1777)
    mine = acc.folder(f"{here.name}/tmp/mine", acc.victim)
    acc.file(mine / "ok.py", good("hx-sticky-mine"), acc.victim)
    theirs = acc.folder(f"{here.name}/tmp/theirs", acc.attacker)
    acc.file(theirs / "evil.py", evil(marker), acc.attacker)
    root = victim_plugins(acc, acc.folder(f"{here.name}/home", acc.victim), {})
    for name, target in (("mine", mine), ("theirs", theirs)):
        (root / name).symlink_to(target, target_is_directory=True)
        give(root / name, acc.victim, 0o777)
    out = discover_as(acc, acc.victim, root)
    assert out["names"] == ["hx-sticky-mine"] and not marker.exists()
    assert f"{theirs} is owned by uid {acc.attacker.uid}" in out["refused"][str(root / "theirs")]
    # why the user's own entry is safe there: the sticky bit stops the attacker replacing it
    proc = acc.run(acc.attacker, f"import os; os.rename({str(mine)!r}, {str(sticky / 'moved')!r})")
    assert proc.returncode != 0 and "PermissionError" in proc.stderr


def test_group_writable_plugin_needs_a_really_private_group(scene: Any) -> None:
    acc, here, marker = scene
    root = victim_plugins(acc, here, {"team.py": good("hx-team")})
    team = root / "team.py"
    team.chmod(0o664)  # group: the victim's own private group
    assert discover_as(acc, acc.victim, root)["names"] == ["hx-team"]

    mate = acc.add("m", "--no-user-group", "--gid", str(acc.victim.gid))  # shares it as primary group
    try:
        out = discover_as(acc, acc.victim, root)
        assert out["names"] == [] and "writable by other users (mode 664)" in out["refused"][str(team)]
        proc = acc.run(mate, f"open({str(team)!r}, 'a').write({evil(marker)!r})")
        assert proc.returncode == 0, proc.stderr  # the group really lets that account write the file
        assert discover_as(acc, acc.victim, root)["names"] == [] and not marker.exists()
    finally:
        acc.remove(mate.name)

    acc.file(team, good("hx-team"), acc.victim, 0o664)
    os.chown(team, -1, acc.group("s", acc.attacker))  # a group the attacker is a member of
    out = discover_as(acc, acc.victim, root)
    assert out["names"] == [] and "writable by other users (mode 664)" in out["refused"][str(team)]


def test_a_fifo_or_device_in_a_plugin_folder_never_blocks(scene: Any) -> None:
    acc, here, _ = scene
    root = victim_plugins(acc, here, {"fine.py": good("hx-fine")})
    os.mkfifo(root / "hang.py")
    give(root / "hang.py", acc.victim, 0o644)
    (root / "zero.py").symlink_to("/dev/zero")
    give(root / "zero.py", acc.victim, 0o777)
    started = time.monotonic()
    out = discover_as(acc, acc.victim, root, timeout=30)
    assert time.monotonic() - started < 30 and out["names"] == ["hx-fine"]
    assert out["refused"][str(root / "hang.py")] == "it is not a regular file but a FIFO, device or socket"
    assert "its symlink target /dev/zero is writable by other users" in out["refused"][str(root / "zero.py")]


RACE = """
    import json, os, pathlib, stat, warnings
    warnings.simplefilter("ignore")
    from codex_ml.registry import _dirstate, metric_registry, set_auto_discover
    set_auto_discover(False)
    link, trials = {link!r}, {trials}
    seen = {{"good": 0, "refused": 0, "evil": 0, "naive_evil": 0}}
    for _ in range(trials):
        report = _dirstate.discover_plugins([os.path.dirname(link)], force=True)
        seen["good"] += "hx-good" in metric_registry
        seen["evil"] += "hx-evil" in metric_registry
        seen["refused"] += link in report.refused
    for _ in range(trials):  # the same race against check-then-open by path, as plugin loaders often do
        try:
            st = os.stat(link)
            if st.st_uid in (os.getuid(), 0) and os.stat(os.path.dirname(os.path.realpath(link))).st_uid == os.getuid():
                seen["naive_evil"] += "hx-evil" in pathlib.Path(link).read_text()
        except OSError:
            pass
    print(json.dumps(seen))
"""


def test_a_swap_between_check_and_use_never_runs_the_swapped_in_code(scene: Any) -> None:
    """A racer flips plugins/race.py between the user's file and the attacker's, as fast as it can."""
    acc, here, marker = scene
    mine = acc.folder(f"{here.name}/mine", acc.victim)
    safe = acc.file(mine / "race.py", good("hx-good"), acc.victim)
    theirs = acc.folder(f"{here.name}/theirs", acc.attacker)
    bad = acc.file(theirs / "race.py", evil(marker), acc.attacker)
    root = victim_plugins(acc, mine, {})
    link = root / "race.py"
    link.symlink_to(safe)
    stop = threading.Event()

    def racer() -> None:  # root stands in for any swap that happens after a check
        spare = root / ".race.tmp"
        while not stop.is_set():
            for target in (bad, safe):
                os.symlink(target, spare)
                os.lchown(spare, acc.victim.uid, acc.victim.gid)
                os.replace(spare, link)

    thread = threading.Thread(target=racer, daemon=True)
    thread.start()
    try:
        proc = acc.run(acc.victim, RACE.format(link=str(link), trials=600))
    finally:
        stop.set()
        thread.join()
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["evil"] == 0 and not marker.exists()
    assert seen["good"] > 0 and seen["refused"] > 0  # the race really ran both ways
    assert seen["good"] + seen["refused"] >= 600
    print("race:", seen)


def test_a_pycache_others_can_write_is_never_used_by_sibling_imports(scene: Any) -> None:
    """The sys.path idiom: main.py imports helpers.py; the attacker plants helpers' bytecode."""
    acc, here, marker = scene
    runs = marker.parent / "helper-runs"
    root = victim_plugins(acc, here, {
        "helpers.py": f"open({str(runs)!r}, 'a').write('ran\\n')\n\ndef score(p, t=None):\n    return 2.0\n",
        "main.py": "import os, sys\nsys.path.insert(0, os.path.dirname(__file__))\nimport helpers\n"
                   "from codex_ml.registry import register_metric\nregister_metric('hx-main', helpers.score)\n",
    })
    cache = acc.folder(str((root / "__pycache__").relative_to(acc.base)), acc.victim, 0o777)  # umask 000
    source = root / "helpers.py"
    st = source.stat()
    forged = compile(evil(marker), str(source), "exec")
    header = (importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little")
              + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little"))
    pyc = Path(importlib.util.cache_from_source(str(source)))
    proc = acc.run(acc.attacker, f"open({str(pyc)!r}, 'wb').write(bytes.fromhex({(header + marshal.dumps(forged)).hex()!r}))")
    assert proc.returncode == 0, proc.stderr
    out = discover_as(acc, acc.victim, root)
    assert out["names"] == ["hx-main"] and out["failed"] == {} and not marker.exists()
    assert runs.read_text() == "ran\n"  # helpers.py ran once, though it is a plugin file and imported
    assert any(w.startswith("Ignored ") and f"{cache.relative_to(acc.base)}: it is writable by other users "
               "(mode 777), so anyone could plant bytecode there" in w for w in out["warnings"])
    assert sorted(p.name for p in cache.iterdir()) == [pyc.name]  # nothing written there either


def test_an_unsafe_sibling_helper_is_refused_not_imported(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "shared.py").write_text("VALUE = 1\n")
    (root / "lib" / "shared.py").chmod(0o666)
    (root / "main.py").write_text("import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), 'lib'))\n"
                                  "import shared\n")
    out = run_json(PROBE, env=env_with(CODEX_ML_PLUGIN_PATH=str(root)), cwd=tmp_path)
    assert out["failed"][str(root / "main.py")].startswith(
        f"ImportError(\"Refused plugin helper {root / 'lib' / 'shared.py'} (imported as 'shared'): "
        "it is writable by other users (mode 666)")


def _crc_twins(base: Path) -> tuple[str, str]:
    """Two folder names whose plugin paths share a CRC-32 (the old short hash): a birthday search."""
    rng, seen = random.Random(0), {}
    while True:
        name = "".join(rng.choices(string.ascii_lowercase, k=8))
        crc = zlib.crc32(f"{base}/{name}/model.py".encode())
        if seen.setdefault(crc, name) != name:
            return seen[crc], name


def test_module_names_never_collide(tmp_path: Path) -> None:
    root = tmp_path / "plugins"
    first, second = _crc_twins(root)
    for index, folder in enumerate((first, second)):
        (root / folder).mkdir(parents=True)
        (root / folder / "model.py").write_text(good(f"hx-twin-{index}"))
    names = {module_name(str(root / f / "model.py")) for f in (first, second)}
    assert len(names) == 2 and all(n.isidentifier() for n in names)
    assert module_name("/a/b_2f.py") != module_name("/a/b/.py")  # escaping is one to one
    out = run_json(PROBE, env=env_with(CODEX_ML_PLUGIN_PATH=str(root)), cwd=tmp_path)
    assert out["names"] == ["hx-twin-0", "hx-twin-1"]


SWAP_AFTER_CHECK = """
    import json, os, warnings
    warnings.simplefilter("ignore")
    from codex_ml.registry import _dirstate, _fsafe, metric_registry, set_auto_discover
    set_auto_discover(False)
    checked = _fsafe._Walk.run

    def check_then_swap(walk):  # the test's hook: runs right after the checks, before the read
        found = checked(walk)
        if walk.path.endswith("race.py"):
            {swap}
        return found

    _fsafe._Walk.run = check_then_swap
    report = _dirstate.discover_plugins([{root!r}], force=True)
    print(json.dumps({{"names": sorted(n for n in metric_registry.list() if n.startswith("hx-")),
                      "refused": report.refused}}))
"""
SWAPS = {
    "link": "os.symlink({evil!r}, {spare!r}); os.replace({spare!r}, {link!r})",
    "file": "os.replace({evil!r}, {good!r})",
    "folder": "os.rename({good_dir!r}, {good_dir!r} + '.old'); os.rename({evil_dir!r}, {good_dir!r})",
}


@pytest.mark.parametrize("swap", sorted(SWAPS))
def test_swapping_the_link_file_or_folder_right_after_the_check_changes_nothing(tmp_path: Path, swap: str) -> None:
    marker = tmp_path / "pwned"
    good_dir, evil_dir, root = tmp_path / "good", tmp_path / "evil", tmp_path / "plugins"
    for folder in (good_dir, evil_dir, root):
        folder.mkdir()
    (good_dir / "race.py").write_text(good("hx-good"))
    (evil_dir / "race.py").write_text(evil(marker))
    (root / "race.py").symlink_to(good_dir / "race.py")
    names = {"evil": str(evil_dir / "race.py"), "good": str(good_dir / "race.py"), "link": str(root / "race.py"),
             "spare": str(root / ".spare"), "good_dir": str(good_dir), "evil_dir": str(evil_dir)}
    code = SWAP_AFTER_CHECK.format(swap=SWAPS[swap].format(**names), root=str(root))
    out = run_json(code, env=env_with(), cwd=tmp_path)
    assert not marker.exists() and "hx-evil" not in out["names"]
    if swap == "file":  # the checked file itself was replaced: refused, not read
        assert out["refused"] == {names["link"]: "it was replaced while it was being opened"}
    else:  # the descriptors already held lead to the file that was checked
        assert out["names"] == ["hx-good"]
