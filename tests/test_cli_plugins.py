"""``python -m codex_ml.cli.plugins_cli list KIND``: real subprocesses, no terminal."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from _support import make_package, pip_install
from test_cli_app_support import (
    HEAVY,
    KINDS,
    broken_dist,
    clean_env,
    codex_ml,
    parsed,
    plugin_folder,
    plugins_cli,
    run_argv,
    with_path,
)

# Entries of seeds 001/002 that each kind must list (more may exist).
SEEDED = {
    "models": {"minilm", "decoder_only", "gpt2-offline", "tinyllama-offline", "offline:tiny-sequence"},
    "datasets": {"lines", "offline:tiny-corpus"},
    "metrics": {"accuracy@token", "ppl", "exact_match", "f1", "dist-1", "dist-2", "offline:weighted-accuracy"},
    "trainers": {"offline:functional"},
    "reward_models": {"offline:heuristic", "offline:length"},
    "tokenizers": {"hf", "gpt2-offline", "tinyllama-offline", "offline:tiny-vocab"},
    "rl_agents": {"offline:scripted"},
}


@pytest.mark.parametrize("kind", KINDS)
def test_list_every_kind_plain(kind: str, tmp_path: Path) -> None:
    proc = plugins_cli("list", kind, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[1].split()
    assert header == ["NAME", "SOURCE", "LOADED", "FILES", "DESCRIPTION"]
    names = {line.split()[0] for line in proc.stdout.splitlines()[2:] if line and not line.startswith(" ")}
    assert SEEDED[kind] <= names
    assert "\x1b[" not in proc.stdout  # no colours without a terminal


@pytest.mark.parametrize("kind", KINDS)
def test_list_every_kind_json(kind: str, tmp_path: Path) -> None:
    data = parsed(plugins_cli("list", kind, "--json", cwd=tmp_path))
    assert data["kind"] == ("data_loaders" if kind == "datasets" else kind)
    assert data["requested"] == kind
    entries = {e["name"]: e for e in data["entries"]}
    assert SEEDED[kind] <= set(entries)
    for name in SEEDED[kind]:
        entry = entries[name]
        assert entry["source"] == "built-in" and entry["source_label"] == "built-in"
        assert entry["distribution"] == "codex-ml"
        assert entry["loaded"] is False and entry["status"] == "not loaded"
        assert entry["target"] and ":" in entry["target"]
    assert data["count"] == len(data["entries"])


def test_file_backed_entries_say_whether_files_are_present(tmp_path: Path) -> None:
    data = parsed(plugins_cli("list", "tokenizers", "--json", cwd=tmp_path))
    files = {e["name"]: e["files"] for e in data["entries"]}
    assert files["hf"] == []  # no files needed
    tiny = files["offline:tiny-vocab"][0]
    assert tiny["resource"] == "tiny_tokenizer" and tiny["present"] is True
    assert tiny["path"].endswith(os.path.join("tiny_tokenizer", "vocab.json"))
    gpt2 = files["gpt2-offline"][0]
    assert gpt2["present"] is False and gpt2["path"] is None
    assert gpt2["searched"][0] == {"where": "working directory",
                                   "path": str(tmp_path / "artifacts/models/gpt2"), "exists": False}


def test_missing_files_list_the_searched_paths_in_plain_text(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "vocab.json"
    env = clean_env(CODEX_ML_TINY_TOKENIZER_PATH=str(missing))
    proc = plugins_cli("list", "tokenizers", cwd=tmp_path, env=env)
    assert proc.returncode == 0
    row = next(line for line in proc.stdout.splitlines() if line.startswith("offline:tiny-vocab"))
    assert row.split()[3] == "missing"
    assert "offline:tiny-vocab: files for 'tiny_tokenizer' are missing; searched:" in proc.stdout
    assert f"1. CODEX_ML_TINY_TOKENIZER_PATH={missing}: {missing}" in proc.stdout


def test_files_found_through_the_environment(tmp_path: Path) -> None:
    gpt2 = tmp_path / "weights" / "gpt2"
    gpt2.mkdir(parents=True)
    (gpt2 / "config.json").write_text("{}")
    env = clean_env(CODEX_ML_GPT2_PATH=str(gpt2))
    data = parsed(plugins_cli("list", "models", "--json", cwd=tmp_path, env=env))
    status = next(e for e in data["entries"] if e["name"] == "gpt2-offline")["files"][0]
    assert status["present"] is True and status["path"] == str(gpt2)


def test_tag_filter(tmp_path: Path) -> None:
    data = parsed(plugins_cli("list", "models", "--tag", "causal-lm", "--tag", "offline", "--json", cwd=tmp_path))
    names = {e["name"] for e in data["entries"]}
    assert {"gpt2-offline", "tinyllama-offline"} <= names
    assert "minilm" not in names and "offline:tiny-sequence" not in names
    assert all({"causal-lm", "offline"} <= set(e["tags"]) for e in data["entries"])
    plain = plugins_cli("list", "models", "-t", "fixture", cwd=tmp_path)
    assert "tagged fixture" in plain.stdout and "offline:tiny-sequence" in plain.stdout
    assert "minilm" not in plain.stdout


def test_ls_and_search_take_tags_too(tmp_path: Path) -> None:
    everything = parsed(codex_ml("ls", "--json", cwd=tmp_path))
    tagged = parsed(codex_ml("ls", "--tag", "causal-lm", "--json", cwd=tmp_path))
    models = {r["kind"]: r["names"] for r in tagged["registries"]}["models"]
    assert {"gpt2-offline", "tinyllama-offline"} <= set(models) and "offline:tiny-sequence" not in models
    assert 0 < tagged["total"] < everything["total"] and tagged["tags"] == ["causal-lm"]
    assert "4 components tagged causal-lm" in codex_ml("ls", "-t", "causal-lm", cwd=tmp_path).stdout.splitlines()[0]
    hits = parsed(codex_ml("search", "offline", "--tag", "causal-lm", "-t", "offline", "--json", cwd=tmp_path))
    assert {r["name"] for r in hits["results"]} >= {"gpt2-offline", "tinyllama-offline"}
    assert all({"causal-lm", "offline"} <= set(r["tags"]) for r in hits["results"])
    none = codex_ml("search", "gpt", "--tag", "no-such-tag", cwd=tmp_path)
    assert none.returncode == 1 and none.stdout == ""
    assert none.stderr.startswith("error: no component matches 'gpt' tagged no-such-tag. Fix: try a shorter or "
                                  "different word or fewer tags;")


def test_unknown_kind_is_a_usage_error_with_did_you_mean(tmp_path: Path) -> None:
    proc = plugins_cli("list", "modles", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: unknown kind 'modles'. Did you mean 'models'")
    assert "Known kinds: agents, data_loaders, datasets, loggers, metrics, models" in proc.stderr
    data = parsed(plugins_cli("list", "rl-agent", "--json", cwd=tmp_path))  # spelling variants work
    assert data["kind"] == "rl_agents"
    bad = plugins_cli("list", "metrix", "--json", cwd=tmp_path)
    assert bad.returncode == 2
    assert parsed(bad)["close_matches"][0] == "metrics" and parsed(bad)["exit_code"] == 2


@pytest.mark.parametrize("argv", [["list"], ["list", "models", "--bogus"], ["nosuchcommand"]])
def test_typer_usage_errors_exit_2(argv: list[str], tmp_path: Path) -> None:
    proc = plugins_cli(*argv, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Usage:" in proc.stderr or "usage" in proc.stderr.lower()


def test_help(tmp_path: Path) -> None:
    proc = plugins_cli("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for command in ("list", "ls", "explain", "search", "doctor", "docs"):
        assert command in proc.stdout
    assert "--tag" in plugins_cli("list", "--help", cwd=tmp_path).stdout


def test_listing_imports_no_plugin_no_torch_no_rich(installed_examples: Path, tmp_path: Path) -> None:
    """Listing every kind in one process leaves heavy and plugin modules unimported."""
    code = f"""
import contextlib, io, json, sys
from codex_ml.cli.plugins_cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    codes = [main(["list", kind, "--json"]) for kind in {list(KINDS)!r}]
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r} or m.startswith("toy_"))
print(json.dumps({{"codes": codes, "heavy": heavy, "out": out.getvalue()}}))
"""
    env = with_path(clean_env(), installed_examples)
    proc = run_argv([sys.executable, "-c", code], env, tmp_path)
    result = json.loads(proc.stdout)
    assert result["codes"] == [0] * len(KINDS)
    assert result["heavy"] == []
    assert '"toy_metric"' in result["out"]  # the plugin was listed, not imported


def test_real_cli_import_time_has_no_heavy_modules(tmp_path: Path) -> None:
    """``python -X importtime`` of the real command: none of the heavy modules appear."""
    import subprocess

    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "codex_ml.cli.plugins_cli", "list", "models"],
                          env=clean_env(), check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "codex_ml" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_installed_plugin_listed_with_its_distribution_and_never_imported(
        installed_examples: Path, tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    env = with_path(clean_env(CODEX_TOY_IMPORT_LOG=str(log)), installed_examples)
    data = parsed(plugins_cli("list", "metrics", "--json", cwd=tmp_path, env=env))
    toy = next(e for e in data["entries"] if e["name"] == "toy_metric")
    assert toy["source"] == "entry-point"
    assert (toy["distribution"], toy["dist_version"]) == ("toy-metric", "0.1.0")
    assert toy["entry_point"] == "codex_ml.metrics:toy_metric = toy_metric.metric:toy_score"
    assert toy["loaded"] is False
    hook = next(h for h in data["hooks"] if h["name"] == "weighted")
    assert hook == {"name": "weighted", "target": "toy_metric.hooks:register", "distribution": "toy-metric",
                    "dist_version": "0.1.0", "state": "not run"}
    plain = plugins_cli("list", "metrics", cwd=tmp_path, env=env).stdout
    assert "entry point (toy-metric 0.1.0)" in plain
    assert "weighted = toy_metric.hooks:register (toy-metric 0.1.0)" in plain
    assert not log.exists()  # listing imported no plugin module


def test_resolve_runs_hooks_and_lists_what_they_register(installed_examples: Path, tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    env = with_path(clean_env(CODEX_TOY_IMPORT_LOG=str(log)), installed_examples)
    data = parsed(plugins_cli("list", "metrics", "--resolve", "--json", cwd=tmp_path, env=env))
    weighted = next(e for e in data["entries"] if e["name"] == "toy_weighted_accuracy")
    assert weighted["distribution"] == "toy-metric" and weighted["loaded"] is True
    assert next(h for h in data["hooks"] if h["name"] == "weighted")["state"] == "ran"
    assert log.read_text().split() == ["toy_metric.hooks"]  # only the hook, not the factory module


def test_user_defined_kind_from_a_plugin_file(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path / "myplugins", {"schedulers.py": """
        from codex_ml.registry import Registry

        schedulers = Registry("schedulers", entry_point_group="codex_ml.schedulers")

        @schedulers.register("cosine", tags=("lr",), description="Cosine decay")
        def cosine(**kw):
            return kw
        """})
    env = clean_env(CODEX_ML_PLUGIN_PATH=str(folder))
    data = parsed(plugins_cli("list", "schedulers", "--json", cwd=tmp_path, env=env))
    assert data["kind"] == "schedulers" and data["entry_point_group"] == "codex_ml.schedulers"
    (cosine,) = data["entries"]
    assert cosine["name"] == "cosine" and cosine["source"] == "plugin-file"
    assert cosine["file"] == str(folder / "schedulers.py") and cosine["loaded"] is True
    plain = plugins_cli("list", "scheduler", cwd=tmp_path, env=env).stdout
    assert "plugin file myplugins/schedulers.py" in plain


@pytest.fixture(scope="module")
def bundle_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real distribution whose ``codex_ml.plugins`` bundle defines a kind of its own."""
    root = tmp_path_factory.mktemp("bundle")
    project = make_package(root, "sched-bundle", {
        "codex_ml.plugins": {"sched": "sched_bundle"},
        "codex_ml.schedulers": {"cosine": "sched_impl:cosine"},
    }, {"sched_bundle.py": """
        from codex_ml.registry import Registry

        schedulers = Registry("schedulers", entry_point_group="codex_ml.schedulers")
        """, "sched_impl.py": """
        def cosine(**kw):
            \"\"\"Cosine decay of the learning rate.\"\"\"
            return kw
        """})
    return pip_install(project, root / "site")


def test_a_kind_defined_by_a_bundle_is_found_by_every_command(bundle_site: Path, tmp_path: Path) -> None:
    env = with_path(clean_env(), bundle_site)
    plain = codex_ml("ls", cwd=tmp_path, env=env)
    listed = parsed(codex_ml("ls", "--json", cwd=tmp_path, env=env))
    assert "schedulers" not in {r["kind"] for r in listed["registries"]}  # listing imports no plugin
    assert [b["name"] for b in listed["bundles_not_run"]] == ["sched"]
    disabled = parsed(codex_ml("ls", "--json", cwd=tmp_path, env={**env, "CODEX_ML_PLUGINS_DISABLE": "sched-bundle"}))
    assert disabled["bundles_not_run"] == []  # it never runs: --resolve would not help
    assert "1 bundle plugin(s) not run yet" in plain.stdout and "sched = sched_bundle (sched-bundle 0.1.0)" in plain.stdout
    kinds = {r["kind"]: r["names"] for r in parsed(codex_ml("ls", "--resolve", "--json", cwd=tmp_path,
                                                             env=env))["registries"]}
    assert kinds["schedulers"] == ["cosine"]
    hits = parsed(codex_ml("search", "cosine", "--json", cwd=tmp_path, env=env))["results"]
    assert [(h["kind"], h["name"]) for h in hits] == [("schedulers", "cosine")]
    found = parsed(codex_ml("explain", "cosine", "--no-load", "--json", cwd=tmp_path, env=env))
    assert [m["kind"] for m in found["matches"]] == ["schedulers"]
    doctor = parsed(codex_ml("doctor", "--json", cwd=tmp_path, env=env))
    assert "schedulers" in {r["kind"] for r in doctor["registries"]}
    proc = codex_ml("docs", "build", "--resolve", "--out", "md", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "cosine" in (tmp_path / "md" / "schedulers.md").read_text()


@pytest.mark.parametrize("kind", ["pipelines", "agents", "pipeline"])
def test_an_empty_built_in_kind_lists_as_empty(kind: str, tmp_path: Path) -> None:
    proc = codex_ml("list", kind, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = parsed(proc)
    assert (data["kind"], data["entries"]) == (kind.rstrip("s") + "s", [])


def test_broken_plugin_file_is_reported_by_list(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path / "plugins", {"bad.py": "import not_a_module_xyz\n"})
    proc = plugins_cli("list", "models", cwd=tmp_path)  # ./plugins is discovered by default
    assert proc.returncode == 0
    assert ("broken plugin file plugins/bad.py: ModuleNotFoundError: No module named 'not_a_module_xyz'"
            in proc.stdout)
    assert "Failed to import" not in proc.stderr  # reported once, in the output
    data = parsed(plugins_cli("list", "models", "--json", cwd=tmp_path))
    assert data["plugin_files"]["failed"][0]["path"] == "plugins/bad.py"
    assert folder.is_dir()


def test_broken_entry_point_does_not_break_listing(tmp_path: Path) -> None:
    env = with_path(clean_env(), broken_dist(tmp_path / "site"))
    data = parsed(plugins_cli("list", "metrics", "--json", cwd=tmp_path, env=env))
    broken = next(e for e in data["entries"] if e["name"] == "broken_metric")
    assert broken["distribution"] == "broken-plugin" and broken["loaded"] is False


def test_fast_path_and_typer_path_print_the_same(installed_examples: Path, tmp_path: Path) -> None:
    env = with_path(clean_env(), installed_examples)
    for argv in (["ls"], ["list", "datasets"], ["list", "models", "-t", "offline", "--json"],
                 ["list", "metrics", "--tag=token"], ["search", "tiny", "--kind", "models"],
                 ["ls", "--tag", "offline"], ["search", "tiny", "-t", "fixture", "--json"],
                 ["explain", "toy_metric", "--no-load", "--json"], ["doctor", "--json"],
                 ["list", "nonsense"]):
        fast = codex_ml(*argv, cwd=tmp_path, env=env)
        slow = codex_ml(*argv, cwd=tmp_path, env={**env, "CODEX_ML_CLI_FASTPATH": "0"})
        assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr), argv
