"""No network (issue 6, part 7).

The whole suite runs with connections that leave the machine blocked, in
this process and in every subprocess (tests/netblock/sitecustomize.py, put
on PYTHONPATH by conftest.py). These tests prove the guard is really there,
and that codex_ml itself never tries: importing it, listing every registry
and loading every entry of the offline catalogue (tiny GPT-2 and Llama
checkpoints included) makes no socket connection and no DNS lookup at all,
counted by a CPython audit hook, which sees attempts even to loopback and
even ones a library would catch and ignore.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from _support import env_with, run_json, run_py

OUTSIDE = ("203.0.113.7", 443)  # TEST-NET-3: never routable, and blocked before a packet leaves


def _blocked_error() -> type[BaseException]:
    import sitecustomize

    blocked = getattr(sitecustomize, "NetworkBlockedError", None)
    assert blocked is not None, "the network guard (tests/netblock/sitecustomize.py) is not loaded"
    return blocked  # type: ignore[no-any-return]


def test_connections_leaving_the_machine_are_blocked_here() -> None:
    blocked = _blocked_error()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(blocked, match=r"network access blocked in tests: connect to \('203\.0\.113\.7', 443\)"):
            sock.connect(OUTSIDE)
        with pytest.raises(blocked, match="network access blocked"):
            sock.connect_ex(OUTSIDE)
    with pytest.raises(blocked, match=r"network access blocked in tests: DNS lookup of '203\.0\.113\.7'"):
        socket.create_connection(OUTSIDE, timeout=1)  # resolves first: stopped at the lookup
    with pytest.raises(blocked, match=r"DNS lookup of 'huggingface\.co'"):
        socket.getaddrinfo("huggingface.co", 443)
    with pytest.raises((blocked, urllib.error.URLError)) as info:
        urllib.request.urlopen("https://huggingface.co/gpt2/resolve/main/config.json", timeout=1)
    assert "network access blocked" in str(info.value)


def test_loopback_stays_open_for_torch_distributed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            conn, _ = server.accept()
            conn.close()


def test_connections_are_blocked_in_subprocesses_too() -> None:
    out = run_json("""
        import json, socket
        results = []
        for attempt in (lambda: socket.socket().connect(("203.0.113.7", 443)),
                        lambda: socket.getaddrinfo("pypi.org", 443)):
            try:
                attempt()
                results.append("CONNECTED")
            except OSError as exc:
                results.append(type(exc).__name__ + ": " + str(exc))
        print(json.dumps(results))
    """, env=env_with())
    assert out == ["NetworkBlockedError: network access blocked in tests: connect to ('203.0.113.7', 443)",
                   "NetworkBlockedError: network access blocked in tests: DNS lookup of 'pypi.org'"]


AUDIT = """
    import json, os, socket, sys
    events = []
    WATCH = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
             "socket.getnameinfo", "socket.sendto", "socket.sendmsg", "urllib.Request", "http.client.connect")

    def hook(event, args):  # attempts that reach the C socket layer (loopback included)
        if event in WATCH:
            events.append([event, repr(args)[:200]])

    sys.addaudithook(hook)

    def recorded(name, fn):  # attempts the guard stops before they reach the C layer
        def wrapper(*args, **kwargs):
            events.append(["attempt " + name, repr(args[1:] if name.startswith("socket.socket") else args)[:200]])
            return fn(*args, **kwargs)
        return wrapper

    socket.getaddrinfo = recorded("socket.getaddrinfo", socket.getaddrinfo)
    socket.socket.connect = recorded("socket.socket.connect", socket.socket.connect)
    socket.socket.connect_ex = recorded("socket.socket.connect_ex", socket.socket.connect_ex)
"""


def test_the_recorder_sees_attempts_even_when_they_are_swallowed() -> None:
    """Positive control: an attempt blocked by the guard and ignored by its caller is still counted."""
    out = run_json(AUDIT + """
    for attempt in (lambda: socket.getaddrinfo("huggingface.co", 443),
                    lambda: socket.socket().connect(("203.0.113.7", 443))):
        try:
            attempt()
        except OSError:
            pass  # a library that falls back silently
    print(json.dumps(events))
    """, env=env_with())
    assert [e[0] for e in out] == ["attempt socket.getaddrinfo", "attempt socket.socket.connect"]  # type: ignore[union-attr]


def strace_prefix(log: Path) -> list[str]:
    """``strace`` catching connect() from C code too (Rust/C++ HTTP clients), if it can run here."""
    strace = shutil.which("strace")
    if strace is None:
        return []
    probe = subprocess.run([strace, "-f", "-qq", "-o", os.devnull, "true"], capture_output=True, check=False)
    if probe.returncode != 0:  # ptrace not permitted in this container
        return []
    # --seccomp-bpf: the kernel stops the process only at the traced calls, not at every one
    # (strace goes on without it where seccomp is unavailable).
    return [strace, "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,sendto,sendmsg", "-e", "signal=none",
            "-o", str(log)]


def inet_syscalls(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [line for line in log.read_text().splitlines() if "AF_INET" in line]


def test_importing_and_listing_codex_ml_opens_no_connection() -> None:
    out = run_json(AUDIT + """
    import codex_ml
    from codex_ml import registry
    names = {r.kind: r.list(resolve=True) for r in registry.all_registries()}
    registry.discover_all()
    print(json.dumps({"events": events, "kinds": len(names), "total": sum(map(len, names.values()))}))
    """, env=env_with())
    assert out["events"] == []  # type: ignore[index]
    assert out["kinds"] >= 11 and out["total"] >= 23  # type: ignore[index]


def test_loading_every_catalogue_entry_opens_no_connection(tmp_path: Path) -> None:
    """Every built-in of every registry is created (or fetched, for plain-value metrics)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("sentencepiece")
    models = tmp_path / "artifacts" / "models"
    corpus = tmp_path / "lines.txt"
    corpus.write_text("one line\nanother line\n")
    # HF_* offline flags are dropped: codex_ml must stay offline on its own.
    env = env_with(CODEX_ML_GPT2_PATH=str(models / "gpt2"), CODEX_ML_TINYLLAMA_PATH=str(models / "tinyllama"))
    for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(flag, None)
    code = textwrap.dedent(AUDIT + f"""
    from codex_ml.models.tiny_checkpoints import write_tiny_gpt2, write_tiny_llama
    write_tiny_gpt2({str(models / "gpt2")!r})
    write_tiny_llama({str(models / "tinyllama")!r})
    from codex_ml import registry
    kwargs = {{("tokenizers", "hf"): {{"name_or_path": {str(models / "gpt2")!r}}},
              ("data_loaders", "lines"): {{"path": {str(corpus)!r}}}}}
    loaded, failed = [], []
    for reg in registry.all_registries():
        for name in reg.list():
            if reg.metadata(name)["provenance"]["source"] != "built-in":
                continue
            try:
                obj = reg.create(name, **kwargs.get((reg.kind, name), {{}}))
                assert obj is not None
                loaded.append(reg.kind + ":" + name)
            except Exception as exc:
                failed.append([reg.kind, name, type(exc).__name__, str(exc)[:300]])
    print(json.dumps({{"events": events, "loaded": loaded, "failed": failed}}))
    """)
    log = tmp_path / "strace.log"
    proc = subprocess.run([*strace_prefix(log), sys.executable, "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert inet_syscalls(log) == []  # not even from C or Rust code (when strace can run here)
    assert out["failed"] == []  # type: ignore[index]
    assert out["events"] == []  # type: ignore[index]
    assert len(out["loaded"]) >= 23  # type: ignore[index]
    for entry in ["models:gpt2-offline", "models:tinyllama-offline", "tokenizers:tinyllama-offline",
                  "tokenizers:hf", "models:minilm", "trainers:offline:functional"]:
        assert entry in out["loaded"]  # type: ignore[operator]


def test_loaders_stay_offline_when_transformers_was_imported_first(tmp_path: Path) -> None:
    """huggingface_hub reads its offline flag at import: a program that imported transformers (or peft)
    before asking codex_ml for a model, with no HF_* flag set, must still make no connection."""
    pytest.importorskip("transformers")
    pytest.importorskip("peft")
    env = env_with(HF_HOME=str(tmp_path / "hf-home"))  # an empty cache: nothing cached to fall back on
    for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(flag, None)
    code = textwrap.dedent(AUDIT + """
    import transformers, peft
    from codex_ml.modeling.codex_model_loader import load_model_with_optional_lora
    from codex_ml.registry import get_tokenizer
    from codex_ml.utils.modeling import load_model_and_tokenizer
    outcomes = []
    for call in (lambda: load_model_and_tokenizer("gpt2"),
                 lambda: get_tokenizer("hf", name_or_path="gpt2"),
                 lambda: load_model_with_optional_lora("minilm", lora_enabled=True),
                 lambda: load_model_and_tokenizer("small-local-model")):
        try:
            call()
            outcomes.append("loaded")
        except FileNotFoundError as exc:
            outcomes.append("FileNotFoundError: " + str(exc)[:60])
    print(json.dumps({"events": events, "outcomes": outcomes}))
    """)
    log = tmp_path / "strace.log"
    proc = subprocess.run([*strace_prefix(log), sys.executable, "-c", code], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["events"] == [], out["events"][:3]
    assert inet_syscalls(log) == []
    assert [o.split(":")[0] for o in out["outcomes"]] == ["FileNotFoundError", "FileNotFoundError", "loaded",
                                                          "FileNotFoundError"], out["outcomes"]


def test_a_subprocess_started_without_the_guard_would_be_caught_by_this_suite() -> None:
    """The guard is loaded from PYTHONPATH: a test helper that drops it must not go unnoticed."""
    env = env_with()
    assert any(p.endswith("netblock") for p in env["PYTHONPATH"].split(os.pathsep))
    proc = run_py("import sitecustomize; print(hasattr(sitecustomize, 'NetworkBlockedError'))", env=env)
    assert proc.stdout.strip() == "True"
