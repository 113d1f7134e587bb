"""The catalogue through the registries: every built-in honours its call convention, lazily."""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex_ml.catalogue import paths
from codex_ml.catalogue._table import BUILTINS

REPO = Path(__file__).resolve().parents[1]
DOCUMENTED_ENTRIES = {
    "tokenizers": {"hf", "gpt2-offline", "tinyllama-offline", "offline:tiny-vocab"},
    "models": {
        "minilm",
        "decoder_only",
        "gpt2-offline",
        "tinyllama-offline",
        "offline:tiny-sequence",
    },
    "data_loaders": {"lines", "offline:tiny-corpus"},
    "metrics": {
        "accuracy@token",
        "ppl",
        "exact_match",
        "f1",
        "dist-1",
        "dist-2",
        "offline:weighted-accuracy",
    },
    "trainers": {"offline:functional"},
    "reward_models": {"offline:heuristic", "offline:length"},
    "rl_agents": {"offline:scripted"},
}
TINY_ENTRIES = [
    ("tokenizers", "offline:tiny-vocab"),
    ("models", "offline:tiny-sequence"),
    ("data_loaders", "offline:tiny-corpus"),
    ("metrics", "offline:weighted-accuracy"),
    ("trainers", "offline:functional"),
    ("reward_models", "offline:length"),
    ("rl_agents", "offline:scripted"),
]


def registry_of(kind: str) -> Any:
    from codex_ml import registry

    return {reg.kind: reg for reg in registry.all_registries()}[kind]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in paths.ENV_VARS}


def run_python(code: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env or clean_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


# ------------------------------------------------------------------------ the table
def test_table_covers_spec_section_4() -> None:
    by_kind: dict[str, set[str]] = {}
    for kind, name, _, _ in BUILTINS:
        by_kind.setdefault(kind, set()).add(name)
    for kind, names in DOCUMENTED_ENTRIES.items():
        assert names <= by_kind[kind], (kind, names - by_kind[kind])
        assert names <= set(registry_of(kind).list())


@pytest.mark.parametrize(
    ("kind", "name", "target", "meta"), BUILTINS, ids=[f"{r[0]}:{r[1]}" for r in BUILTINS]
)
def test_rows_are_complete_and_targets_exist(
    kind: str, name: str, target: str, meta: dict[str, Any]
) -> None:
    assert {"description", "tags", "version", "author"} <= set(meta)
    assert isinstance(meta["tags"], tuple) and meta["tags"]
    if "resource" in meta:
        paths.get_resource(str(meta["resource"]))
    module, _, attr = target.partition(":")
    assert callable(getattr(importlib.import_module(module), attr))
    registered = registry_of(kind).metadata(name)
    assert registered["description"] == meta["description"]


def test_listing_the_catalogue_imports_no_torch(tmp_path: Path) -> None:
    out = run_python(
        """
        import json, sys
        from codex_ml import registry
        names = {r.kind: r.list() for r in registry.all_registries()}
        metas = [r.metadata(n) for r in registry.all_registries() for n in r.list()]
        heavy = [m for m in ("torch", "transformers", "numpy", "peft", "tokenizers", "sentencepiece")
                 if m in sys.modules]
        print(json.dumps({"names": names, "heavy": heavy, "count": len(metas)}))
    """,
        tmp_path,
    )
    report = json.loads(out)
    assert report["heavy"] == []
    for kind, names in DOCUMENTED_ENTRIES.items():
        assert names <= set(report["names"][kind])


# ------------------------------------------------------------- the contract per entry
def check_tokenizer(tok: Any, name: str) -> None:
    ids = tok.encode("hello world")
    assert isinstance(ids, list) and ids and all(isinstance(i, int) for i in ids)
    assert (
        isinstance(tok.decode(ids), str) and isinstance(tok.vocab_size, int) and tok.vocab_size > 0
    )
    if name != "offline:tiny-vocab":
        assert "hello world" in tok.decode(ids)


def check_model(model: Any, name: str) -> None:
    if name == "offline:tiny-sequence":
        assert isinstance(model.generate("hello", max_new_tokens=3), str)
        return
    import torch

    vocab = model.config.vocab_size
    out = model(input_ids=torch.tensor([[1, 2, 3]]))
    logits = getattr(out, "logits", out)
    assert tuple(logits.shape) == (1, 3, vocab)


def check_data(data: Any, name: str) -> None:
    records = list(data)
    assert len(records) > 100 and all(isinstance(r, str) for r in records)


METRIC_INPUTS: dict[str, tuple[Any, Any, float]] = {
    "accuracy@token": ([1, 2, 3], [1, 0, -100], 0.5),
    "ppl": ([math.log(3)] * 4, None, 3.0),
    "exact_match": (["The cat"], ["cat"], 1.0),
    "f1": (["cat sat"], ["cat"], 2 / 3),
    "dist-1": (["a a b"], None, 2 / 3),
    "dist-2": (["a b a b"], None, 2 / 3),
    "offline:weighted-accuracy": (["neutral", "x"], ["neutral", "positive"], 1 / 3),
}


def check_metric(metric: Callable[..., float], name: str) -> None:
    predictions, targets, expected = METRIC_INPUTS[name]
    value = metric(predictions, targets)
    assert isinstance(value, float) and value == pytest.approx(expected)


def check_trainer(trainer: Any, name: str) -> None:
    assert callable(trainer.training_step) and callable(trainer.validation_step)


def check_reward(model: Any, name: str) -> None:
    value = model.score("describe the cat", "the cat sat on the warm mat by the door today")
    assert isinstance(value, float) and -1.0 <= value <= 1.0


def check_agent(agent: Any, name: str) -> None:
    assert agent.act("hello") == "greet" and agent.act({"obstacle": True}) == "turn_left"


def check_logger(logger: Any, name: str) -> None:
    for method in ("start", "scalars", "text", "close"):
        assert callable(getattr(logger, method)), (name, method)
    assert logger.run_dir == Path("."), name  # nothing is written until the loop starts it


CHECKS = {
    "loggers": check_logger,
    "tokenizers": check_tokenizer,
    "models": check_model,
    "data_loaders": check_data,
    "metrics": check_metric,
    "trainers": check_trainer,
    "reward_models": check_reward,
    "rl_agents": check_agent,
}


@pytest.fixture(scope="module")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from codex_ml.models.tiny_checkpoints import write_tiny_gpt2, write_tiny_llama

    root = tmp_path_factory.mktemp("models")
    write_tiny_gpt2(root / "gpt2")
    write_tiny_llama(root / "tinyllama")
    return root


def entry_kwargs(name: str, models_root: Path) -> dict[str, Any]:
    return {
        "hf": {"name_or_path": str(models_root / "gpt2")},
        "lines": {"path": str(paths.packaged_path("tiny_corpus"))},
        "decoder_only": {"vocab_size": 40, "d_model": 16, "n_heads": 2, "n_layers": 1},
        "minilm": {"vocab_size": 40},
    }.get(name, {})


@pytest.mark.parametrize(
    ("kind", "name"), [(r[0], r[1]) for r in BUILTINS], ids=[f"{r[0]}:{r[1]}" for r in BUILTINS]
)
def test_every_builtin_honours_its_call_convention(
    kind: str, name: str, models_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in paths.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CODEX_ML_OFFLINE_MODELS_DIR", str(models_root))
    for rid in paths.RESOURCES:  # the tiny ones come from the package, not the models root
        pkg = paths.packaged_path(rid)
        if pkg is not None:
            monkeypatch.setenv(paths.RESOURCES[rid].env_vars[0], str(pkg))
    monkeypatch.chdir(tmp_path)
    component = registry_of(kind).create(name, **entry_kwargs(name, models_root))
    CHECKS[kind](component, name)


# ------------------------------------------------------------ from the installed package
RESOLVE_ALL = """
    import json, os, sys
    import codex_ml
    from codex_ml import registry
    from codex_ml.catalogue import paths
    pkg = os.path.dirname(codex_ml.__file__)
    resolved = {rid: str(paths.resolve(rid)) for rid, res in paths.RESOURCES.items() if res.packaged}
    regs = {r.kind: r for r in registry.all_registries()}
    made = {}
    for kind, name in %s:
        obj = regs[kind].create(name)
        made[name] = type(obj).__name__
    tok = regs["tokenizers"].create("offline:tiny-vocab")
    gen = regs["models"].create("offline:tiny-sequence").generate("hello", max_new_tokens=3)
    print(json.dumps({"pkg": pkg, "cwd": os.getcwd(), "resolved": resolved, "made": made, "gen": gen,
                      "ids": tok.encode("hello world"), "torch": "torch" in sys.modules}))
"""


def check_resolved(report: dict[str, Any], pkg_root: Path) -> None:
    assert len(report["resolved"]) == 7
    for rid, where in report["resolved"].items():
        assert Path(where).is_relative_to(pkg_root / "catalogue" / "fixtures"), (rid, where)
    assert report["gen"] == "world" and report["ids"] == [4, 5]
    assert set(report["made"]) == {name for _, name in TINY_ENTRIES}
    assert report["torch"] is False


def test_empty_cwd_resolves_every_tiny_fixture_from_the_package(tmp_path: Path) -> None:
    out = run_python(RESOLVE_ALL % (TINY_ENTRIES,), tmp_path)
    report = json.loads(out)
    assert report["cwd"] == str(tmp_path) and not any(tmp_path.iterdir())
    import codex_ml

    check_resolved(report, Path(codex_ml.__file__).parent)


def test_built_wheel_ships_the_fixtures(tmp_path: Path) -> None:
    """Install the project (not editable) into a folder and use it from an empty directory."""
    source = tmp_path / "src-copy"
    source.mkdir()
    for item in ("pyproject.toml", "README.md"):
        if (REPO / item).exists():
            (source / item).write_bytes((REPO / item).read_bytes())
    import shutil

    shutil.copytree(
        REPO / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=source,
        timeout=300,
    )
    fixtures = target / "codex_ml" / "catalogue" / "fixtures"
    assert not any(p.is_symlink() for p in fixtures.rglob("*"))
    empty = tmp_path / "empty"
    empty.mkdir()
    env = clean_env()
    env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")])
    report = json.loads(run_python(RESOLVE_ALL % (TINY_ENTRIES,), empty, env))
    assert Path(report["pkg"]) == target / "codex_ml"
    check_resolved(report, target / "codex_ml")


def test_repo_root_fixture_tree_is_the_packaged_one() -> None:
    for rid, res in paths.RESOURCES.items():
        if res.packaged:
            repo_copy = REPO / res.seed_path
            assert repo_copy.is_file(), repo_copy
            assert repo_copy.read_bytes() == paths.packaged_path(rid).read_bytes()  # type: ignore[union-attr]
