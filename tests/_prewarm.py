"""Run ``codex-ml`` commands in real processes without paying for the interpreter each time.

Most CLI tests need a real process (its own stdin/stdout/stderr, exit status,
working directory, environment and ``sys.path``) but not a freshly started
interpreter: importing torch, its optimizers (which import ``torch._dynamo``),
Hydra and transformers costs seconds per command. A *prewarmed* server imports
those third-party libraries once, then forks one child per command. The child
takes the caller's file descriptors 0/1/2, working directory, environment
(``PYTHONPATH`` entries go on ``sys.path``, ``PYTHONWARNINGS`` is applied) and
argv, imports ``codex_ml`` afresh, runs ``codex_ml.cli.app.main`` and exits with
its status, so each command still starts from a clean ``codex_ml`` state.

The client is this file run as a script (``python -S -E _prewarm.py SOCKET
ARGS...``): a few milliseconds instead of seconds. :func:`argv` gives the
command line for ``subprocess``; :func:`shim_dir` gives a folder holding a
``codex-ml`` executable for shell-level tests (the docs examples), with a
``python`` that forks ``python -m codex_ml...`` and runs anything else in the
real interpreter, and :func:`script_argv` runs a Python script the same way
(``python SCRIPT``).

Tests about processes themselves (signals, kill trials, what a command
imports, the console script, torchrun) do not use this.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import sys

TYPE_CHECKING = False  # the client starts with every command: no typing import
if TYPE_CHECKING:
    import subprocess

PIDFILE = "TESTS_PREWARM_PIDFILE"
SWITCH = "TESTS_PREWARM"  # "0": every command in a new interpreter (slower, the same results)
# Set by share() in the first pytest process: its workers use one server, which ends with that process.
HOME, OWNER = "TESTS_PREWARM_HOME", "TESTS_PREWARM_OWNER"
# Third-party libraries whose import is env-independent and costly; codex_ml is
# not among them (each command imports it afresh, reading its own settings).
PRELOAD = ("torch", "torch.optim", "torch._dynamo", "numpy", "safetensors.torch", "omegaconf", "hydra",
           "hydra._internal.utils", "hydra.core.global_hydra", "transformers", "transformers.models.gpt2",
           "peft", "matplotlib.figure", "matplotlib.backends.backend_agg", "yaml", "typer", "rich.console")
_HEADER = struct.Struct("!I")
_STATUS = struct.Struct("!i")


# ---------------------------------------------------------------- client
def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def client(path: str, args: list[str]) -> int:
    """Ask the server at ``path`` to run ``codex-ml ARGS`` with this process's fds, env and cwd."""
    import signal

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    payload = json.dumps({"argv": args, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    socket.send_fds(conn, [_HEADER.pack(len(payload))], [0, 1, 2])
    conn.sendall(payload)
    pid_bytes = _recv_exact(conn, _STATUS.size)
    if pid_bytes is None:
        print("prewarmed codex-ml: the server closed the connection", file=sys.stderr)
        return 1
    pid = _STATUS.unpack(pid_bytes)[0]
    if os.environ.get(PIDFILE):  # for tests that signal the command itself (SIGKILL cannot be relayed)
        with open(os.environ[PIDFILE] + ".tmp", "w") as fh:
            fh.write(str(pid))
        os.replace(os.environ[PIDFILE] + ".tmp", os.environ[PIDFILE])  # whole, or not there yet
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: os.kill(pid, signum))
    status = _recv_exact(conn, _STATUS.size)
    if status is None:
        print(f"prewarmed codex-ml: lost the waiter of command process {pid}", file=sys.stderr)
        return 1
    return _exit_like(_STATUS.unpack(status)[0])


def _exit_like(wait_status: int) -> int:
    """The command's exit status; if a signal ended it, end this process by the same signal."""
    import signal

    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):  # those two cannot be caught anyway
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    return os.waitstatus_to_exitcode(wait_status)


# ---------------------------------------------------------------- server
def serve(path: str, owner: int) -> None:
    """Import PRELOAD, then fork a child per connection until process ``owner`` ends."""
    import gc
    import importlib
    import select
    import signal

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional extra that is not installed: the child imports it if needed
            pass
    _draw_once()
    # Children share the preloaded heap copy-on-write; a collection in a child would walk (and so
    # copy) every page of it. Frozen objects are never collected: a child copies only what it uses.
    gc.collect()
    gc.freeze()
    threads = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["1"]
    if len(threads) != 1:  # forking a process with threads is not safe: refuse rather than flake
        raise SystemExit(f"prewarm server: {len(threads)} threads after preloading; cannot fork safely")
    ended = os.pidfd_open(owner)  # readable once the owner has ended, even if it was killed
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    while True:
        if ended in select.select([listener, ended], [], [])[0]:
            os._exit(0)
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            _waiter(conn)
        conn.close()


def _draw_once() -> None:
    """Draw one small PNG, so that children find matplotlib's fonts already loaded."""
    import io

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return
    fig = Figure(figsize=(2, 1))
    FigureCanvasAgg(fig)
    axis = fig.subplots()
    axis.plot([1, 2], [3, 4], "o-", label="warm")
    axis.set(xlabel="step", ylabel="loss", title="warm")
    axis.legend()
    fig.savefig(io.BytesIO(), format="png")


def _waiter(conn: socket.socket) -> None:
    """Fork the command, tell the client its pid, then its wait status (a signal included)."""
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        request = _receive(conn)
    except BaseException:  # noqa: BLE001 - a broken request: this waiter only ends
        os._exit(1)
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            conn.close()
            status = _run(request)
        finally:
            os._exit(status)
    for fd in (0, 1, 2):  # only the command holds the caller's streams: EOF comes when it ends
        os.close(fd)
    conn.sendall(_STATUS.pack(pid))
    _, status = os.waitpid(pid, 0)
    conn.sendall(_STATUS.pack(status))
    os._exit(0)


def _receive(conn: socket.socket) -> dict[str, object]:
    header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
    (size,) = _HEADER.unpack(header)
    payload = _recv_exact(conn, size)
    if payload is None or len(fds) != 3:
        raise SystemExit("prewarm child: incomplete request")
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    return json.loads(payload)


def _become(request: dict[str, object]) -> None:
    """Take the caller's environment, working directory, sys.path, stdio and signals."""
    import io
    import random
    import signal
    import warnings

    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as CPython sets these two at start-up
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(str(request["cwd"]))
    extra = [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [p for p in extra if p not in sys.path] + sys.path
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                  write_through=unbuffered, line_buffering=False)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True)
    # The server started with the interpreter's default filters plus what its imports added,
    # as a fresh process importing the same libraries would have; the caller's -W comes on top.
    for spec in filter(None, env.get("PYTHONWARNINGS", "").split(",")):
        warnings._setoption(spec)  # type: ignore[attr-defined]  # what -W and PYTHONWARNINGS use
    random.seed()


def _run(request: dict[str, object]) -> int:
    import atexit
    import threading
    import traceback

    argv = list(request["argv"])  # type: ignore[call-overload]
    _become(request)
    try:
        if argv[:1] == ["--script"]:
            status = _script(argv[1], argv[2:])
        elif argv[:1] == ["--module"]:
            status = _module(argv[1], argv[2:])
        else:
            status = _codex_ml(argv)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught exception
        traceback.print_exc()
        status = 1
    threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads, as at exit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    return status


def _codex_ml(argv: list[str]) -> int:
    from codex_ml.cli.app import main

    sys.argv = ["codex-ml", *argv]
    return main(argv)


def _script(path: str, args: list[str]) -> int:
    """``python PATH ARGS``: the script's folder first on sys.path, run as ``__main__``."""
    import runpy

    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    runpy.run_path(path, run_name="__main__")
    return 0


def _module(name: str, args: list[str]) -> int:
    """``python -m NAME ARGS``: the working directory first on sys.path, NAME run as ``__main__``."""
    import runpy

    sys.argv = [name, *args]  # runpy puts the module's file in sys.argv[0], as -m does
    sys.path.insert(0, os.getcwd())
    runpy.run_module(name, run_name="__main__", alter_sys=True)
    return 0


# ---------------------------------------------------------------- pytest side
_SERVER: dict[str, object] = {}


def socket_path() -> str | None:
    """Start the server on first use (one per pytest run, see share); return its socket path.

    None when ``TESTS_PREWARM=0`` or the server cannot start (said once, as a warning):
    the commands then run in new interpreters, slower but the same.
    """
    if os.environ.get(SWITCH, "1") == "0" or "failed" in _SERVER:
        return None
    if "path" in _SERVER and _alive(int(_SERVER["pid"])):  # type: ignore[call-overload]
        return str(_SERVER["path"])
    try:
        share()  # outside pytest's conftest: this process owns the server
        path, pid = _shared(os.environ[HOME])
    except (OSError, RuntimeError) as exc:
        import warnings

        _SERVER["failed"] = str(exc)
        warnings.warn(f"prewarmed commands are off, each runs in a new interpreter: {exc}", stacklevel=2)
        return None
    _SERVER.update(path=path, pid=pid)
    return path


def share() -> None:
    """In the first pytest process: its workers (which inherit these variables) share one server."""
    import atexit
    import tempfile

    if os.environ.get(SWITCH, "1") != "0" and not os.environ.get(HOME):
        os.environ[HOME] = tempfile.mkdtemp(prefix="codex-prewarm-")
        os.environ[OWNER] = str(os.getpid())
        atexit.register(_end_shared, os.environ[HOME])


def _shared(home: str) -> tuple[str, int]:
    """The run's server: the first worker to need it starts it, the others wait and use it."""
    import fcntl

    path, pidfile = os.path.join(home, "sock"), os.path.join(home, "server.pid")
    with open(os.path.join(home, "lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _alive(_read_pid(pidfile)):
            if os.path.exists(path):
                os.unlink(path)
            with open(pidfile, "w") as fh:
                fh.write(str(_launch(path, home, os.environ[OWNER]).pid))
        return path, _read_pid(pidfile)


def _end_shared(home: str) -> None:
    import shutil
    import signal

    pid = _read_pid(os.path.join(home, "server.pid"))
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(home, ignore_errors=True)


def _read_pid(pidfile: str) -> int:
    """The pid in ``pidfile``; 0 when there is none."""
    try:
        with open(pidfile) as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a dead child not yet reaped does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return pid > 0 and fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _launch(path: str, folder: str, owner: str) -> subprocess.Popen[str]:
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    with open(os.path.join(folder, "server.log"), "w+") as log:  # the server's stderr
        proc = subprocess.Popen([sys.executable, __file__, "serve", path, owner],
                                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True, env=env)
        line = proc.stdout.readline() if proc.stdout else ""
        if proc.stdout is not None:
            proc.stdout.close()
        if line.strip() != "ready":
            log.seek(0)
            raise RuntimeError(f"the prewarm server did not start: {line!r}\n{log.read()[-2000:]}")
    return proc


def argv(*args: str) -> list[str]:
    """The command line that runs ``codex-ml ARGS`` through this process's prewarmed server."""
    path = socket_path()
    if path is None:
        new = {"--script": [sys.executable], "--module": [sys.executable, "-m"]}
        return [*new[args[0]], *args[1:]] if args[:1] and args[0] in new else [
            sys.executable, "-m", "codex_ml.cli", *args]
    return [sys.executable, "-S", "-E", __file__, path, *args]


def command_pid(pidfile: str | os.PathLike[str], timeout: float = 60) -> int | None:
    """The pid of the command whose client writes ``pidfile`` (see PIDFILE); None without a server.

    The command may already be running when its client writes the file: wait for it.
    """
    import time

    if socket_path() is None:
        return None
    deadline = time.monotonic() + timeout
    while not os.path.exists(pidfile):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no pid in {pidfile} after {timeout} s")
        time.sleep(0.005)
    with open(pidfile) as fh:
        return int(fh.read())


def script_argv(path: str, *args: str) -> list[str]:
    """The command line that runs ``python PATH ARGS`` forked from this process's server."""
    return argv("--script", path, *args)


def shim_dir() -> str:
    """A folder whose ``codex-ml`` and ``python -m codex_ml...`` run through the prewarmed server
    (else the installed script's folder)."""
    import sysconfig

    path = socket_path()
    if path is None:
        return sysconfig.get_path("scripts")
    folder = os.path.join(os.path.dirname(path), "bin")
    client = f'"{sys.executable}" -S -E "{__file__}" "{path}"'
    shims = {"codex-ml": f'exec {client} "$@"\n',
             # `python -m codex_ml...` forked too; any other use of python is the real interpreter
             "python": f'case "$1 $2" in "-m codex_ml"*) shift; exec {client} --module "$@";; esac\n'
                       f'exec "{sys.executable}" "$@"\n'}
    if not os.path.isdir(folder):  # written whole, then renamed: both workers may get here
        staging = f"{folder}.{os.getpid()}"
        os.makedirs(staging)
        for name, body in shims.items():
            with open(os.path.join(staging, name), "w") as fh:
                fh.write("#!/bin/sh\n" + body)
            os.chmod(os.path.join(staging, name), 0o755)
        try:
            os.rename(staging, folder)
        except OSError:  # the other worker's are there
            import shutil

            shutil.rmtree(staging)
    return folder


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(client(sys.argv[1], sys.argv[2:]))
