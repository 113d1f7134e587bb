"""Ctrl-C that a library swallowed is still Ctrl-C.

A SIGINT raises ``KeyboardInterrupt`` wherever Python is at that moment.
Inside a C extension's import (``import torch`` importing numpy) the extension
may catch that exception and go on, so the interrupt is lost: the run would
train to the end and exit 0, or fail later with an unrelated ``ImportError``.
While a ``codex-ml`` command runs, its SIGINT handler also remembers the
signal, and the command looks at that record where stopping is safe: at every
training step, and when an error escapes (reported as the interrupt it came
from). Outside the command line (a library call) nothing is installed and
:func:`check` costs one global read.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

_seen = False
_watching = 0  # commands running now: outside them (a library call) nothing is remembered


def _on_sigint(signum: int, frame: object) -> None:
    global _seen
    _seen = True
    raise KeyboardInterrupt


@contextmanager
def watching() -> Iterator[None]:
    """Remember every SIGINT while the block runs (Python's default handler is kept otherwise)."""
    global _seen, _watching
    if not _watching:
        _seen = False
    _watching += 1
    try:  # only Python's own default is replaced: an ignored SIGINT (`nohup`, `&`) stays ignored
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread: signals are not ours to handle here
        previous = None
    try:
        yield
    finally:
        _watching -= 1
        if not _watching:
            _seen = False  # a later library call must not stop for this command's Ctrl-C
        if previous is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous)


def pending() -> bool:
    """True when a SIGINT arrived during the command running now (even if something swallowed it)."""
    return _seen and _watching > 0


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a SIGINT arrived and was swallowed on its way."""
    if _seen and _watching:
        raise KeyboardInterrupt
