"""Block every network connection that leaves this machine.

The test suite puts this folder on PYTHONPATH, so every Python process it
starts (subprocesses, torchrun workers) imports it at start-up. Loopback stays
open because torch.distributed rendezvous needs it; anything else raises.
"""
from __future__ import annotations

import socket

_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")


class NetworkBlockedError(OSError):
    """A test tried to reach the network."""


def _is_local(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return host.startswith(_LOOPBACK) or host == ""
    return isinstance(address, (str, bytes))  # unix sockets are local


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        raise NetworkBlockedError(f"network access blocked in tests: connect to {address!r}")
    _real_connect(self, address)  # type: ignore[arg-type]


def _connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(address):
        raise NetworkBlockedError(f"network access blocked in tests: connect to {address!r}")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if host is not None and not _is_local((host,)):
        raise NetworkBlockedError(f"network access blocked in tests: DNS lookup of {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _connect  # type: ignore[method-assign]
socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _getaddrinfo
