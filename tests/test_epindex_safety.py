"""The index cache is read only where nobody else can plant it (docs/reliability.md, "Caches").

Every attack is tried with a forged index that lists ``forged-metric``: the
control test shows the forgery is taken when the victim's own folder holds
it, so each refusal below is the defence working, not a broken forgery.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _support import env_with, make_package, pip_install

LIST = """
    import json
    from codex_ml.registry import _epindex, metric_registry
    print(json.dumps({"names": metric_registry.list(), "source": _epindex.current().source}))
"""
FORGE = """
    import sys
    from codex_ml.registry import _epcache as c, _epindex as e, _epscan, _epwrite as w
    index = _epscan.build(e._key())
    index._rows["codex_ml.metrics"] = index.rows("codex_ml.metrics") + (("forged-metric", "os:getcwd", 0),)
    folder = sys.argv[1]
    assert w.write_cache(folder, c.cache_name(index.key), index), "the forgery was not written"
    print(c.cache_name(index.key))
"""
WARNING = "Ignoring the entry-point cache"

pytestmark = pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0 or not shutil.which("useradd"),
                                reason="needs root and useradd to create a second account")


@pytest.fixture(scope="module")
def attacker() -> Iterator[tuple[int, int]]:
    """A real second local account (created here, removed afterwards): (uid, gid)."""
    import pwd

    name = f"cmlatk{os.getpid() % 100000}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    try:
        entry = pwd.getpwnam(name)
        yield entry.pw_uid, entry.pw_gid
    finally:
        subprocess.run(["userdel", name], capture_output=True, check=False)


def as_user(user: tuple[int, int], *cmd: str) -> None:
    subprocess.run(["setpriv", f"--reuid={user[0]}", f"--regid={user[1]}", "--init-groups", *cmd],
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str, bytes]:
    """A site with one real plugin, and a forged index for it: (root, env, cache file name, forgery)."""
    root = tmp_path_factory.mktemp("victim")
    project = make_package(root, "honest-plugin", {"codex_ml.metrics": {"honest-metric": "honest_mod:score"}},
                           {"honest_mod.py": "def score(p, t=None):\n    return 1.0\n"})
    site = pip_install(project, root / "site")
    (root / "cwd").mkdir()
    past = 1_600_000_000
    for path in [site, *site.rglob("*"), root / "cwd"]:
        os.utime(path, (past, past))
    time.sleep(0.06)  # out of the clock tick of those changes
    env = env_with(site, CODEX_ML_CACHE="1", PYTHONDONTWRITEBYTECODE="1")
    private = root / "forger"
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(FORGE), str(private)], env=env, cwd=root / "cwd",
                         capture_output=True, text=True, check=True).stdout
    name = out.strip().splitlines()[-1]
    return root, env, name, (private / name).read_bytes()


@pytest.fixture
def reachable(tmp_path: Path) -> Iterator[Path]:
    """A folder the second account can reach (pytest's own tree is private to root)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="codex-epindex-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def listing(victim: tuple[Path, dict[str, str], str, bytes], cache: Path) -> tuple[list[str], str, str]:
    root, env, _, _ = victim
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(LIST)], env={**env, "CODEX_ML_CACHE_DIR": str(cache)},
                          cwd=root / "cwd", capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["names"], data["source"], proc.stderr


def test_control_the_forgery_is_taken_from_the_victims_own_folder(victim, tmp_path: Path) -> None:
    cache = tmp_path / "own"
    cache.mkdir(mode=0o700)
    (cache / victim[2]).write_bytes(victim[3])
    names, source, stderr = listing(victim, cache)
    assert "forged-metric" in names and source == "cache" and WARNING not in stderr


def _shared(tmp_path: Path) -> Path:
    """A sticky world-writable folder, like /tmp."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    return shared


def _plant(user: tuple[int, int], forgery: bytes, folder: Path, name: str, tmp_path: Path) -> None:
    """The attacker writes the forged index into ``folder`` with their own account."""
    source = tmp_path / "forgery.bin"
    source.write_bytes(forgery)
    os.chmod(source, 0o644)
    as_user(user, "cp", str(source), str(folder / name))


def folder_of_another_user(user, victim, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    cache = _shared(tmp_path) / "codex_ml"
    as_user(user, "mkdir", "-m", "755", str(cache))
    _plant(user, victim[3], cache, victim[2], tmp_path)
    return cache


def folder_others_can_write(user, victim, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    cache.mkdir()
    os.chmod(cache, 0o777)
    _plant(user, victim[3], cache, victim[2], tmp_path)
    return cache


def file_of_another_user(user, victim, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / victim[2]).write_bytes(victim[3])
    os.chown(cache / victim[2], user[0], user[1])
    return cache


def symlink_to_a_planted_file(user, victim, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    shared = _shared(tmp_path)
    _plant(user, victim[3], shared, "planted.idx", tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.symlink(shared / "planted.idx", cache / victim[2])
    return cache


def fifo(user, victim, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.mkfifo(cache / victim[2])
    return cache


def symlink_to_dev_zero(user, victim, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.symlink("/dev/zero", cache / victim[2])
    return cache


def oversized(user, victim, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    with open(cache / victim[2], "wb") as fh:
        fh.write(victim[3])
        fh.truncate(65 * 1024 * 1024)  # sparse: a 65 MiB file that costs no disk
    return cache


ATTACKS: dict[str, tuple[Callable[..., Path], str, bool]] = {
    # attack: (set-up, reason in the warning, whether our own folder gets a fresh cache)
    "folder-of-another-user": (folder_of_another_user, "owned by uid", False),
    "folder-others-can-write": (folder_others_can_write, "others can write to it", False),
    "file-of-another-user": (file_of_another_user, "not by you", True),
    "symlink": (symlink_to_a_planted_file, "without following links", True),
    "fifo": (fifo, "not a regular file", True),
    "dev-zero-symlink": (symlink_to_dev_zero, "without following links", True),
    "oversized": (oversized, "more than the", True),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_cache_others_control_is_ignored_with_one_warning(attack: str, attacker, victim, reachable: Path) -> None:
    tmp_path = reachable
    setup, reason, rebuilt = ATTACKS[attack]
    cache = setup(attacker, victim, tmp_path)
    before = os.lstat(cache / victim[2])
    start = time.monotonic()
    names, source, stderr = listing(victim, cache)
    assert time.monotonic() - start < 30  # never blocks on a FIFO or an endless file
    assert "honest-metric" in names and "forged-metric" not in names and source == "scan"
    assert stderr.count(WARNING) == 1 and reason in stderr, stderr
    after = os.lstat(cache / victim[2])
    if rebuilt:  # replaced atomically by a regular file of the victim's, which the next run trusts
        assert stat.S_ISREG(after.st_mode) and after.st_uid == os.getuid() and after.st_ino != before.st_ino
        assert listing(victim, cache)[1:] == ("cache", "")
    else:  # a folder others control is neither read nor written
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
