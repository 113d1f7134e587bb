"""Real second accounts for the hostile-neighbour tests (docs/reliability.md, "Threat model").

We are root in CI: ``useradd`` makes a victim (who runs codex_ml) and an
attacker (who writes files), each with a private group; ``setpriv`` runs
code as either. Every account and group made here is removed afterwards.
Where accounts cannot be made, the tests skip and say why.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _support import env_with

_MADE = [0]  # sessions made in this process: each gets its own account names
TOOLS = ("useradd", "userdel", "groupadd", "groupdel", "setpriv")


class Account:
    def __init__(self, name: str) -> None:
        entry = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, entry.pw_uid, entry.pw_gid


class Accounts:
    """The accounts of one session, a shared base folder (root, 0755), and ways to act as them."""

    def __init__(self, base: Path, suffix: str) -> None:
        self.base, self.suffix = base, suffix
        self.made: list[str] = []
        self.groups: list[str] = []
        self.victim = self.add("v")
        self.attacker = self.add("a")

    def add(self, role: str, *options: str) -> Account:
        name = f"cx{role}{self.suffix}"
        _sh("useradd", "--no-create-home", "--shell", "/bin/sh", "--home-dir", str(self.base), *options, name)
        self.made.append(name)
        return Account(name)

    def group(self, role: str, *members: Account) -> int:
        name = f"cxg{role}{self.suffix}"
        _sh("groupadd", name)
        self.groups.append(name)
        for member in members:
            _sh("usermod", "-a", "-G", name, member.name)
        return grp.getgrnam(name).gr_gid

    def remove(self, name: str) -> None:
        _sh("userdel", name)
        if name in self.made:
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            self.remove(name)
        for name in self.groups:
            _sh("groupdel", name)

    def folder(self, rel: str, owner: Account | None, mode: int = 0o755) -> Path:
        """``base/rel`` made (parents root-owned 0755), owned by ``owner`` (None: root)."""
        path = self.base / rel
        path.mkdir(parents=True, exist_ok=True)
        give(path, owner, mode)
        return path

    def file(self, path: Path, text: str, owner: Account | None, mode: int = 0o644) -> Path:
        path.write_text(text)
        give(path, owner, mode)
        return path

    def run(self, who: Account, code: str, *, cwd: Path | None = None, timeout: float = 120,
            **env: str) -> subprocess.CompletedProcess[str]:
        """``code`` in a fresh interpreter as ``who`` (real uid, gid and groups)."""
        command = ["setpriv", f"--reuid={who.uid}", f"--regid={who.gid}", "--init-groups", "--",
                   sys.executable, "-c", textwrap.dedent(code)]
        environment = env_with(HOME=str(self.base), **env)
        return subprocess.run(command, env=environment, cwd=cwd or self.base, capture_output=True,
                              text=True, timeout=timeout, check=False)


def give(path: Path, owner: Account | None, mode: int) -> None:
    os.lchown(path, owner.uid if owner else 0, owner.gid if owner else 0)
    if not path.is_symlink():
        path.chmod(mode)


def _sh(*command: str) -> None:
    """Run an account tool, retrying while another process holds the password database's lock."""
    for attempt in range(50):
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode == 0 or "lock" not in proc.stderr or attempt == 49:
            break
        time.sleep(0.2)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, command, proc.stdout, proc.stderr)


def skip_reason() -> str:
    if not hasattr(os, "getuid") or os.getuid() != 0:
        return "needs root to create real second accounts with useradd"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    return f"cannot create accounts here: {', '.join(missing)} not installed" if missing else ""


@pytest.fixture(scope="session", name="accounts")
def accounts_fixture() -> Iterator[Accounts]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="codex-hostile-"))
    base.chmod(0o755)  # root-owned, others read: a neutral place for every account's folders
    try:
        _MADE[0] += 1
        made = Accounts(base, f"{os.getpid() % 100000}x{_MADE[0]}")
    except (subprocess.CalledProcessError, KeyError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"cannot create accounts here: {getattr(exc, 'stderr', '') or exc}")
    try:
        yield made
    finally:
        made.close()
        shutil.rmtree(base, ignore_errors=True)
