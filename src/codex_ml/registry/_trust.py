"""Whose files the user trusts: their own and root's, and groups no other account is in.

Used by ``_fsafe`` for every folder and file it checks (docs/reliability.md,
"Threat model"). ``grp``/``pwd`` load on first use.
"""

from __future__ import annotations

import os
import stat


class Trust:
    """Whose files are the user's: the user and root, and groups only the user is in.

    One instance per pass: the group verdicts read the password and group
    databases once and are kept.
    """

    __slots__ = ("_groups", "uid")

    def __init__(self, uid: int | None = None) -> None:
        self.uid = (os.getuid() if hasattr(os, "getuid") else -1) if uid is None else uid
        self._groups: dict[int, bool] = {}

    def owner_problem(self, st: os.stat_result) -> str:
        if st.st_uid in (self.uid, 0):
            return ""
        return f"owned by uid {st.st_uid}{_account(st.st_uid)}, not by you or root"

    def mode_problem(self, st: os.stat_result) -> str:
        shared_group = st.st_mode & stat.S_IWGRP and not self.private_group(st.st_gid)
        if st.st_mode & stat.S_IWOTH or shared_group:
            return f"writable by other users (mode {stat.S_IMODE(st.st_mode):o})"
        return ""

    def private_group(self, gid: int) -> bool:
        if gid not in self._groups:
            self._groups[gid] = _only_member(gid, self.uid)
        return self._groups[gid]


def _only_member(gid: int, uid: int) -> bool:
    """No account but ``uid`` has ``gid`` as primary group or is listed in it."""
    import grp
    import pwd

    try:
        members = grp.getgrgid(gid).gr_mem
    except KeyError:
        return False  # a group nobody can inspect is not known to be private
    accounts = pwd.getpwall()
    mine = {p.pw_name for p in accounts if p.pw_uid == uid}
    if any(m not in mine for m in members):
        return False
    return all(p.pw_uid == uid for p in accounts if p.pw_gid == gid)


def _account(uid: int) -> str:
    try:
        import pwd

        return f" ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return ""
