"""The ``codex-ml`` console script: ls, explain, search, doctor, docs build, train dispatch."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_app_support import (
    HEAVY,
    SCRIPT,
    broken_dist,
    clean_env,
    codex_ml,
    parsed,
    plugin_folder,
    run_argv,
    with_path,
)

BUILTIN_KINDS = {"tokenizers", "models", "metrics", "data_loaders", "trainers", "reward_models",
                 "rl_agents", "pipelines", "tools", "prompts", "agents"}


def test_console_script_is_installed() -> None:
    assert SCRIPT.is_file(), "pip install -e . creates the codex-ml script"
    assert "codex_ml.cli.app" in SCRIPT.read_text()


# ----------------------------------------------------------------------- ls
def test_ls_plain(tmp_path: Path) -> None:
    proc = codex_ml("ls", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].endswith("components") and lines[1].split()[:2] == ["KIND", "ENTRY-POINT"]
    models = next(line for line in lines if line.startswith("models "))
    assert "codex_ml.models" in models and "offline:tiny-sequence" in models


def test_ls_json_counts_and_names(tmp_path: Path) -> None:
    data = parsed(codex_ml("ls", "--json", cwd=tmp_path))
    rows = {r["kind"]: r for r in data["registries"]}
    assert BUILTIN_KINDS <= set(rows)
    for row in rows.values():
        assert row["count"] == len(row["names"]) and row["names"] == sorted(row["names"], key=str.lower)
    assert rows["data_loaders"]["entry_point_group"] == "codex_ml.data_loaders"
    assert {"lines", "offline:tiny-corpus"} <= set(rows["data_loaders"]["names"])
    assert data["total"] == sum(r["count"] for r in rows.values())


def test_ls_shows_installed_plugins(installed_examples: Path, tmp_path: Path) -> None:
    data = parsed(codex_ml("ls", "--json", cwd=tmp_path, env=with_path(clean_env(), installed_examples)))
    rows = {r["kind"]: r for r in data["registries"]}
    assert "toy_metric" in rows["metrics"]["names"] and "toy-linear" in rows["models"]["names"]


# ------------------------------------------------------------------ explain
def test_explain_builtin_loads_and_shows_signature_docstring_files(tmp_path: Path) -> None:
    data = parsed(codex_ml("explain", "offline:tiny-vocab", "--json", cwd=tmp_path))
    assert data["found"] is True
    (match,) = data["matches"]
    assert match["kind"] == "tokenizers" and match["status"] == "loaded"
    assert match["target"] == "codex_ml.tokenizers.vocab:build_tiny_vocab_tokenizer"
    assert match["signature"].startswith("build_tiny_vocab_tokenizer(")
    assert match["doc"] and match["defined_at"].endswith(".py:" + match["defined_at"].rsplit(":", 1)[1])
    assert match["files"][0]["present"] is True and match["provenance"]["source"] == "built-in"
    plain = codex_ml("explain", "OFFLINE:Tiny_Vocab", cwd=tmp_path)  # names are case/-_ insensitive
    assert plain.returncode == 0
    assert plain.stdout.startswith("offline:tiny-vocab (tokenizers)\n")
    assert "signature     build_tiny_vocab_tokenizer(" in plain.stdout and "docstring:" in plain.stdout


def test_explain_name_in_two_registries(tmp_path: Path) -> None:
    data = parsed(codex_ml("explain", "gpt2-offline", "--no-load", "--json", cwd=tmp_path))
    assert {m["kind"] for m in data["matches"]} == {"models", "tokenizers"}
    for match in data["matches"]:
        assert match["loaded"] is False and "signature" not in match
        (files,) = match["files"]
        assert files["present"] is False
        assert "could not find the GPT-2" in files["fix"] and "Fix:" in files["fix"]
    only = parsed(codex_ml("explain", "gpt2-offline", "--kind", "models", "--no-load", "--json", cwd=tmp_path))
    assert [m["kind"] for m in only["matches"]] == ["models"]


def test_explain_absent_name_says_where_it_looked_and_what_is_close(tmp_path: Path) -> None:
    proc = codex_ml("explain", "tiny-vocab", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: no component named 'tiny-vocab' in any of the ")
    assert "Did you mean 'offline:tiny-vocab' (tokenizers)?" in proc.stderr
    assert "entry-point groups codex_ml.agents" in proc.stderr and "plugin folders" in proc.stderr
    data = parsed(codex_ml("explain", "tiny-vocab", "--json", cwd=tmp_path))
    assert data["found"] is False and data["exit_code"] == 1
    assert {"kind": "tokenizers", "name": "offline:tiny-vocab"} in data["close_matches"]
    assert "entry-point group 'codex_ml.tokenizers' on sys.path" in data["searched"]["tokenizers"]
    typo = parsed(codex_ml("explain", "offline:tiny-vocb", "--json", cwd=tmp_path))["close_matches"]
    assert typo[0] == {"kind": "tokenizers", "name": "offline:tiny-vocab"} and len(typo) == 3  # best of all first


def test_explain_absent_name_names_the_broken_plugin(tmp_path: Path) -> None:
    env = with_path(clean_env(), broken_dist(tmp_path / "site"))
    data = parsed(codex_ml("explain", "broken-metrik", "--json", cwd=tmp_path, env=env))
    assert data["close_matches"][0] == {"kind": "metrics", "name": "broken_metric"}
    proc = codex_ml("explain", "broken_metric", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert "status        error" in proc.stdout
    assert "cause         RuntimeError: boom: the plugin needs libfoo" in proc.stdout
    assert "raised at     site/broken_mod.py:1" in proc.stdout


def test_explain_a_hook_plugin_component(installed_examples: Path, tmp_path: Path) -> None:
    env = with_path(clean_env(), installed_examples)
    data = parsed(codex_ml("explain", "toy_weighted_accuracy", "--json", cwd=tmp_path, env=env))
    (match,) = data["matches"]
    assert match["distribution"] == "toy-metric" and match["description"] == "accuracy with per-item weights"
    assert match["signature"].startswith("weighted_accuracy(predictions")


def test_explain_a_kind(tmp_path: Path) -> None:
    data = parsed(codex_ml("explain", "datasets", "--json", cwd=tmp_path))
    assert data["registry"]["kind"] == "data_loaders" and "lines" in data["registry"]["names"]


# ------------------------------------------------------------------- search
def test_search_ranks_across_registries(tmp_path: Path) -> None:
    data = parsed(codex_ml("search", "tiny", "--json", cwd=tmp_path))
    hits = {(r["kind"], r["name"]) for r in data["results"]}
    assert {("tokenizers", "offline:tiny-vocab"), ("models", "offline:tiny-sequence"),
            ("data_loaders", "offline:tiny-corpus")} <= hits
    assert data["count"] == len(data["results"])
    by_tag = parsed(codex_ml("search", "perplexity", "--kind", "metrics", "--json", cwd=tmp_path))
    assert [r["name"] for r in by_tag["results"]] == ["ppl"]
    plain = codex_ml("search", "squad", cwd=tmp_path)
    assert plain.returncode == 0 and "exact_match" in plain.stdout and "f1" in plain.stdout


def test_search_without_hits_exits_1_with_the_message_on_stderr(tmp_path: Path) -> None:
    proc = codex_ml("search", "zzqqxx", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: no component matches 'zzqqxx'. Fix: try a shorter or different word")
    data = parsed(codex_ml("search", "zzqqxx", "--json", cwd=tmp_path))
    assert (data["count"], data["results"], data["exit_code"]) == (0, [], 1)


# ------------------------------------------------------------------- doctor
def test_doctor_clean_environment_exits_0(installed_examples: Path, tmp_path: Path) -> None:
    env = with_path(clean_env(), installed_examples)
    proc = codex_ml("doctor", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("OK: every plugin loads.")
    data = parsed(codex_ml("doctor", "--json", cwd=tmp_path, env=env))
    assert data["ok"] is True and data["problems"] == 0 and data["failures"] == []
    metrics = next(r for r in data["registries"] if r["kind"] == "metrics")
    assert "toy_metric (toy-metric)" in metrics["loaded"] and "weighted (toy-metric)" in metrics["loaded"]
    assert "toy-metric 0.1.0" in data["entry_points"]["distributions"]
    files = {(r["kind"], r["name"]): r for r in data["catalogue_files"]}
    assert files[("models", "offline:tiny-sequence")]["present"] is True
    assert files[("models", "gpt2-offline")]["present"] is False  # information, not a failure


def test_doctor_reports_a_broken_plugin_and_exits_1(tmp_path: Path) -> None:
    env = with_path(clean_env(), broken_dist(tmp_path / "site"))
    proc = codex_ml("doctor", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert ("FAILED metrics broken_metric (entry point codex_ml.metrics:broken_metric = broken_mod:build "
            "of distribution broken-plugin 0.3): RuntimeError: boom: the plugin needs libfoo "
            "[raised at site/broken_mod.py:1]") in proc.stdout
    assert "1 problem(s) found. Fix:" in proc.stdout
    data = parsed(codex_ml("doctor", "--json", cwd=tmp_path, env=env))
    assert data["ok"] is False and data["problems"] == 1
    (failure,) = data["failures"]
    assert failure["distribution"] == "broken-plugin" and failure["dist_version"] == "0.3"
    assert failure["cause"] == "RuntimeError: boom: the plugin needs libfoo"


def test_doctor_reports_broken_hooks_and_plugin_files_in_strict_mode_too(tmp_path: Path) -> None:
    site = broken_dist(tmp_path / "site", entry_points="[codex_ml.tokenizers]\nbad = broken_mod:register\n",
                       error="raise ImportError('No module named sentencepiece')")
    plugin_folder(tmp_path / "plugins", {"oops.py": "1/0\n"})
    env = with_path(clean_env(CODEX_ML_PLUGINS_STRICT="1"), site)
    data = parsed(codex_ml("doctor", "--json", cwd=tmp_path, env=env))
    assert data["ok"] is False and data["problems"] == 2
    assert data["failures"][0]["name"] == "bad"
    assert data["failures"][0]["cause"] == "ImportError: No module named sentencepiece"
    assert data["plugin_files"]["failed"] == [
        {"path": "plugins/oops.py", "cause": "ZeroDivisionError: division by zero", "raised_at": "plugins/oops.py:1"}]


def test_doctor_all_loads_builtins(tmp_path: Path) -> None:
    data = parsed(codex_ml("doctor", "--all", "--json", cwd=tmp_path))
    assert data["loaded_all"] is True
    assert data["ok"] is True, data["failures"]


# --------------------------------------------------------------- docs build
def test_docs_build_writes_a_page_per_registry(installed_examples: Path, tmp_path: Path) -> None:
    env = with_path(clean_env(), installed_examples)
    out = tmp_path / "site" / "registries"
    proc = codex_ml("docs", "build", "--out", str(out), cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    kinds = {r["kind"] for r in parsed(codex_ml("ls", "--json", cwd=tmp_path, env=env))["registries"]}
    assert kinds >= BUILTIN_KINDS
    assert {p.name for p in out.iterdir()} == {f"{k}.md" for k in kinds} | {"index.md"}
    index = (out / "index.md").read_text()
    for kind in kinds:
        assert f"| [{kind}]({kind}.md) |" in index
    metrics = (out / "metrics.md").read_text()
    assert "| `toy_metric` |  | entry point (toy-metric 0.1.0) |" in metrics
    assert "| `offline:weighted-accuracy` | Accuracy weighted per label" in metrics
    assert '[project.entry-points."codex_ml.metrics"]' in metrics
    again = parsed(codex_ml("docs", "build", "--out", str(out), "--json", cwd=tmp_path, env=env))
    assert sorted(again["files"]) == sorted(str(p) for p in out.iterdir())
    assert (out / "metrics.md").read_text() == metrics  # deterministic


def test_docs_build_into_an_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = codex_ml("docs", "build", "--out", str(blocker / "docs"), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: cannot create the docs folder {blocker / 'docs'}")
    assert "Fix: pass a writable folder with --out." in proc.stderr


# ---------------------------------------------------------- dispatch, output
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_command(tmp_path: Path, flag: str) -> None:
    proc = codex_ml(flag, cwd=tmp_path)
    assert proc.returncode == 0
    for command in ("train", "evaluate", "list", "ls", "explain", "search", "doctor", "docs"):
        assert command in proc.stdout
    sub = codex_ml("list", flag, cwd=tmp_path)
    assert sub.returncode == 0 and "Usage: codex-ml list" in sub.stdout
    assert codex_ml("docs", "bild", cwd=tmp_path).returncode == 2  # a typo is a usage error


def test_docs_build_without_out_writes_under_site(tmp_path: Path) -> None:
    proc = codex_ml("docs", "build", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote 13 pages to {os.path.join('site', 'registries')}: ")
    assert (tmp_path / "site" / "registries" / "index.md").is_file()


@pytest.mark.parametrize(("value", "rich"), [("", True), ("0", True), ("off", True), ("1", False), ("yes", False)])
def test_codex_ml_plain_is_an_on_off_switch(monkeypatch: pytest.MonkeyPatch, value: str, rich: bool) -> None:
    """CODEX_ML_PLAIN=0 turned plain text on: any non-empty value did."""
    import io

    from codex_ml.cli._render import use_rich

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("CODEX_ML_PLAIN", value)
    monkeypatch.setenv("TERM", "xterm")
    assert use_rich(Terminal()) is rich


def test_train_goes_to_hydra_before_typer(tmp_path: Path) -> None:
    code = ("import sys, json\nfrom codex_ml.cli.app import main\nstatus = main(['train', '--help'])\n"
            f"print(json.dumps([status, sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})]))")
    proc = run_argv([sys.executable, "-c", code], clean_env(), tmp_path)
    status, heavy = json.loads(proc.stdout.splitlines()[-1])
    assert status == 0
    assert "typer" not in heavy


def test_rich_table_on_a_terminal(tmp_path: Path) -> None:
    """With a terminal on stdout, the listing is a Rich table (box drawing)."""
    leader, follower = pty.openpty()
    env = clean_env(COLUMNS="200", TERM="xterm")
    with subprocess.Popen([sys.executable, "-m", "codex_ml.cli.plugins_cli", "list", "models"], cwd=tmp_path,
                          env=env, stdout=follower, stderr=subprocess.PIPE) as proc:
        os.close(follower)
        output = _read_all(leader)
        proc.wait(timeout=120)
    assert proc.returncode == 0
    assert "┃" in output or "│" in output
    assert "offline:tiny-sequence" in output and "NAME" not in output


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("argv", [["list", "models"], ["ls"], ["search", "tiny"], ["doctor"]])
def test_output_to_a_closed_pipe_is_quiet(argv: list[str], tmp_path: Path) -> None:
    argv_full = [sys.executable, str(SCRIPT), *argv]
    proc = subprocess.run(f"{' '.join(argv_full)} | head -c 1 >/dev/null", shell=True, check=False, cwd=tmp_path,
                          env=clean_env(), capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_startup_benchmark_runs(tmp_path: Path) -> None:
    """A short run of benchmarks/cli_startup.py: every command works and the table prints."""
    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "cli_startup.py"
    proc = run_argv([sys.executable, str(bench), "--reps", "2", "--warmup", "1", "--json"], clean_env(), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "x import typer" in proc.stdout and "aim: listing <= 1.30 x import typer" in proc.stdout
    rows = json.loads(proc.stdout[proc.stdout.index("["):])
    assert {r["command"] for r in rows} >= {"codex-ml ls", "plugins_cli list models", 'python -c "import typer"'}
