"""``doctor --timeout``: import each plugin in a child process first, so one that hangs is named.

A plugin whose import blocks forever (a lock, a network call without a
timeout, ``input()``) would hang ``codex-ml doctor`` itself. The doctor
therefore imports every plugin entry point's module in a child interpreter,
one after the other, and waits at most ``timeout`` seconds for each; a child
that hangs is killed (and one that dies is noted), the plugin is reported,
a fresh child takes the rest, and the doctor's own process never imports
that plugin. Progress comes back on a private pipe, so a plugin printing
to stdout cannot confuse it.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from typing import Any

CHILD = r"""
import importlib, json, os, sys
out = os.fdopen(int(sys.argv[1]), "w", buffering=1)
job = json.loads(sys.stdin.read())
sys.path[:] = job["path"]
for number, module in job["modules"]:
    out.write(f"start {number}\n")
    try:
        if module.startswith("file:"):  # a plugin-folder file, imported as discovery would
            from codex_ml.registry import _plugindirs
            _plugindirs.probe_import(module[5:], job["roots"])
        else:
            importlib.import_module(module)
    except BaseException:
        pass  # the doctor's own run reports import errors, with their causes
    out.write(f"done {number}\n")
"""


class Stuck:
    """A plugin module that did not finish importing: why, as a sentence."""

    __slots__ = ("number", "why")

    def __init__(self, number: int, why: str) -> None:
        self.number, self.why = number, why


def probe(modules: list[str], timeout: float, roots: list[str] | None = None) -> list[Stuck]:
    """The modules (by position) whose import hung for ``timeout`` s or killed the interpreter.

    A ``file:PATH`` item is a plugin-folder file under ``roots``.
    """
    stuck: list[Stuck] = []
    todo = list(enumerate(modules))
    while todo:
        finished, problem = _run_child(todo, timeout, roots or [])
        if problem is None:
            break
        stuck.append(problem)
        todo = todo[finished + 1:]  # a fresh child takes the ones after it
    return stuck


def _run_child(todo: list[tuple[int, str]], timeout: float, roots: list[str]) -> tuple[int, Stuck | None]:
    """Import ``todo`` in order in one child: (how many finished, the one that did not, if any)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(write_fd)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_fd,))
    os.close(write_fd)
    try:
        _send(proc, {"path": sys.path, "modules": todo, "roots": roots})
        return _watch(proc, read_fd, todo, timeout)
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _send(proc: subprocess.Popen[bytes], job: dict[str, Any]) -> None:
    if proc.stdin is None:
        return
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the child died at start-up: _watch reports it


def _watch(proc: subprocess.Popen[bytes], fd: int, todo: list[tuple[int, str]],
           timeout: float) -> tuple[int, Stuck | None]:
    finished, current, buffer = 0, None, b""
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while True:
        if not sel.select(max(0.0, deadline - time.monotonic())):
            return finished, Stuck(current if current is not None else todo[finished][0],
                                   f"did not finish importing within {timeout:g} s")
        chunk = os.read(fd, 4096)
        if not chunk:
            if finished == len(todo) or current is None or current != todo[finished][0]:
                return len(todo), None  # all done, or the child died outside any plugin: no one to name
            code = proc.wait()
            return finished, Stuck(current, f"ended the interpreter while importing (exit status {code})")
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            word, _, number = line.decode().partition(" ")
            if word == "start":
                current, deadline = int(number), time.monotonic() + timeout
            elif word == "done":
                finished += 1
