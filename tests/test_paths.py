"""codex_ml.catalogue.paths: the search order, every environment variable, the errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from codex_ml.catalogue import paths

TINY = (
    "tiny_tokenizer",
    "tiny_sequence",
    "tiny_corpus",
    "weighted_accuracy",
    "functional_trainer_config",
    "length_reward",
    "scripted_agent",
)
FOLDERS = ("gpt2", "gpt2_tokenizer", "tinyllama", "tinyllama_tokenizer")


pytestmark = pytest.mark.usefixtures("clean_env")  # conftest: no catalogue variable, empty CWD


def copy_fixture(resource_id: str, dest: Path) -> Path:
    src = paths.packaged_path(resource_id)
    assert src is not None
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def make_folder(path: Path, resource_id: str) -> Path:
    """A folder that satisfies the resource's marker files."""
    path.mkdir(parents=True, exist_ok=True)
    (path / paths.RESOURCES[resource_id].markers[0]).write_text("{}")
    return path


# ---------------------------------------------------------------------------- table
def test_every_env_var_of_seed_002_is_known() -> None:
    seed_vars = {
        "CODEX_ML_OFFLINE_MODELS_DIR",
        "CODEX_ML_GPT2_PATH",
        "CODEX_ML_GPT2_TOKENIZER_PATH",
        "CODEX_ML_TINYLLAMA_PATH",
        "CODEX_ML_TINYLLAMA_TOKENIZER_PATH",
        "CODEX_ML_OFFLINE_DATASETS_DIR",
        "CODEX_ML_TINY_CORPUS_PATH",
        "CODEX_ML_OFFLINE_METRICS_DIR",
        "CODEX_ML_WEIGHTED_ACCURACY_PATH",
        "CODEX_ML_TINY_TOKENIZER_PATH",
        "CODEX_ML_TINY_SEQUENCE_PATH",
        "CODEX_ML_FUNCTIONAL_TRAINER_CONFIG",
        "CODEX_ML_OFFLINE_CONFIGS_DIR",
        "CODEX_ML_LENGTH_REWARD_PATH",
        "CODEX_ML_SCRIPTED_AGENT_PATH",
        "CODEX_ML_OFFLINE_RL_DIR",
    }
    assert set(paths.ENV_VARS) == seed_vars


def test_unknown_resource_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown catalogue resource 'nope'.*tiny_corpus"):
        paths.resolve("nope")


@pytest.mark.parametrize("rid", TINY)
def test_packaged_copies_exist(rid: str) -> None:
    packaged = paths.packaged_path(rid)
    assert packaged is not None and packaged.is_file()
    assert paths.resolve(rid) == packaged  # empty CWD, no variables: the packaged copy


@pytest.mark.parametrize("rid", FOLDERS)
def test_checkpoints_have_no_packaged_copy(rid: str) -> None:
    assert paths.packaged_path(rid) is None
    with pytest.raises(FileNotFoundError, match=r"Searched, in order:\n  1\. working directory"):
        paths.resolve(rid)


# ------------------------------------------------------------ per-resource variables
OWN_VARS = [
    ("tiny_tokenizer", "CODEX_ML_TINY_TOKENIZER_PATH"),
    ("tiny_sequence", "CODEX_ML_TINY_SEQUENCE_PATH"),
    ("tiny_corpus", "CODEX_ML_TINY_CORPUS_PATH"),
    ("weighted_accuracy", "CODEX_ML_WEIGHTED_ACCURACY_PATH"),
    ("functional_trainer_config", "CODEX_ML_FUNCTIONAL_TRAINER_CONFIG"),
    ("length_reward", "CODEX_ML_LENGTH_REWARD_PATH"),
    ("scripted_agent", "CODEX_ML_SCRIPTED_AGENT_PATH"),
]


@pytest.mark.parametrize(("rid", "var"), OWN_VARS)
def test_own_variable_pointing_at_a_copy_is_used(
    rid: str, var: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = copy_fixture(rid, tmp_path / "elsewhere" / "copy.dat")
    monkeypatch.setenv(var, str(copy))
    assert paths.resolve(rid) == copy


@pytest.mark.parametrize(("rid", "var"), OWN_VARS)
def test_own_variable_may_name_the_folder(
    rid: str, var: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = paths.RESOURCES[rid].filename
    copy = copy_fixture(rid, tmp_path / "dir" / str(name))
    monkeypatch.setenv(var, str(copy.parent))
    assert paths.resolve(rid) == copy


@pytest.mark.parametrize(("rid", "var"), OWN_VARS)
def test_own_variable_pointing_at_nothing_is_an_error(
    rid: str, var: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.json"
    monkeypatch.setenv(var, str(missing))
    with pytest.raises(FileNotFoundError) as info:
        paths.resolve(rid)
    text = str(info.value)
    assert f"1. {var}={missing} (missing)" in text
    assert "2. working directory" in text and "3. packaged copy" in text
    assert "not searched" in text and f"set {var}" in text


ROOTS = [
    ("tiny_tokenizer", "CODEX_ML_OFFLINE_MODELS_DIR", "tiny_tokenizer/vocab.json"),
    ("tiny_sequence", "CODEX_ML_OFFLINE_MODELS_DIR", "tiny_sequence_model/model.json"),
    ("tiny_corpus", "CODEX_ML_OFFLINE_DATASETS_DIR", "tiny_corpus.txt"),
    ("weighted_accuracy", "CODEX_ML_OFFLINE_METRICS_DIR", "weighted_accuracy.json"),
    ("functional_trainer_config", "CODEX_ML_OFFLINE_CONFIGS_DIR", "trainer_functional.json"),
    ("length_reward", "CODEX_ML_OFFLINE_CONFIGS_DIR", "length_reward.json"),
    ("scripted_agent", "CODEX_ML_OFFLINE_RL_DIR", "scripted_agent/policy.json"),
]


@pytest.mark.parametrize(("rid", "var", "sub"), ROOTS)
def test_root_variable_pointing_at_a_copy_is_used(
    rid: str, var: str, sub: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = copy_fixture(rid, tmp_path / "root" / sub)
    monkeypatch.setenv(var, str(tmp_path / "root"))
    assert paths.resolve(rid) == copy


@pytest.mark.parametrize(("rid", "var", "sub"), ROOTS)
def test_root_variable_pointing_at_nothing_is_an_error(
    rid: str, var: str, sub: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "no-root"
    monkeypatch.setenv(var, str(root))
    with pytest.raises(FileNotFoundError, match=rf"1\. {var}={root} -> {root / sub} \(missing\)"):
        paths.resolve(rid)


FOLDER_VARS = [
    ("gpt2", "CODEX_ML_GPT2_PATH"),
    ("gpt2_tokenizer", "CODEX_ML_GPT2_TOKENIZER_PATH"),
    ("gpt2_tokenizer", "CODEX_ML_GPT2_PATH"),
    ("tinyllama", "CODEX_ML_TINYLLAMA_PATH"),
    ("tinyllama_tokenizer", "CODEX_ML_TINYLLAMA_TOKENIZER_PATH"),
    ("tinyllama_tokenizer", "CODEX_ML_TINYLLAMA_PATH"),
]


@pytest.mark.parametrize(("rid", "var"), FOLDER_VARS)
def test_checkpoint_variables(
    rid: str, var: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path / "ckpt", rid)
    monkeypatch.setenv(var, str(folder))
    assert paths.resolve(rid) == folder
    monkeypatch.setenv(var, str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match=rf"{var}={tmp_path / 'gone'} \(missing\)"):
        paths.resolve(rid)


@pytest.mark.parametrize("rid", FOLDERS)
def test_models_root_variable(rid: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = paths.RESOURCES[rid].root_subpath
    folder = make_folder(tmp_path / "models" / sub, rid)
    monkeypatch.setenv("CODEX_ML_OFFLINE_MODELS_DIR", str(tmp_path / "models"))
    assert paths.resolve(rid) == folder
    monkeypatch.setenv("CODEX_ML_OFFLINE_MODELS_DIR", str(tmp_path / "none"))
    with pytest.raises(FileNotFoundError, match="CODEX_ML_OFFLINE_MODELS_DIR=.*none.*missing"):
        paths.resolve(rid)


def test_tokenizer_variable_wins_over_model_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = make_folder(tmp_path / "model", "gpt2_tokenizer")
    tok_dir = make_folder(tmp_path / "tok", "gpt2_tokenizer")
    monkeypatch.setenv("CODEX_ML_GPT2_PATH", str(model_dir))
    assert paths.resolve("gpt2_tokenizer") == model_dir
    monkeypatch.setenv("CODEX_ML_GPT2_TOKENIZER_PATH", str(tok_dir))
    assert paths.resolve("gpt2_tokenizer") == tok_dir


# ------------------------------------------------------------------ order and errors
def test_order_explicit_env_root_cwd_packaged(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid, pkg = "tiny_corpus", paths.packaged_path("tiny_corpus")
    assert paths.resolve(rid) == pkg
    cwd_copy = copy_fixture(rid, clean_env / "data/offline/tiny_corpus.txt")
    assert paths.resolve(rid) == cwd_copy
    root_copy = copy_fixture(rid, tmp_path / "ds" / "tiny_corpus.txt")
    monkeypatch.setenv("CODEX_ML_OFFLINE_DATASETS_DIR", str(tmp_path / "ds"))
    assert paths.resolve(rid) == root_copy
    env_copy = copy_fixture(rid, tmp_path / "env.txt")
    monkeypatch.setenv("CODEX_ML_TINY_CORPUS_PATH", str(env_copy))
    assert paths.resolve(rid) == env_copy
    explicit = copy_fixture(rid, tmp_path / "explicit.txt")
    assert paths.resolve(rid, explicit) == explicit
    assert paths.resolve(rid, str(explicit)) == explicit
    labels = [label for label, _ in paths.searched(rid, explicit)]
    assert labels == [
        "explicit argument",
        f"CODEX_ML_TINY_CORPUS_PATH={env_copy}",
        f"CODEX_ML_OFFLINE_DATASETS_DIR={tmp_path / 'ds'}",
        "working directory",
        "packaged copy",
    ]


def test_missing_explicit_path_is_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = copy_fixture("tiny_corpus", tmp_path / "good.txt")
    monkeypatch.setenv("CODEX_ML_TINY_CORPUS_PATH", str(good))
    missing = tmp_path / "typo.txt"
    with pytest.raises(FileNotFoundError) as info:
        paths.resolve("tiny_corpus", missing)
    lines = str(info.value).splitlines()
    assert lines[1] == f"  1. explicit argument -> {missing} (missing)"
    assert lines[2].startswith(f"  2. CODEX_ML_TINY_CORPUS_PATH={good} (not searched")
    assert "3. working directory" in lines[3] and "4. packaged copy" in lines[4]
    assert lines[-1].startswith("Fix: pass the path explicitly, set CODEX_ML_TINY_CORPUS_PATH")


def test_folder_without_the_file_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("CODEX_ML_SCRIPTED_AGENT_PATH", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="directory has no policy.json"):
        paths.resolve("scripted_agent")


def test_checkpoint_folder_needs_its_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gpt2").mkdir()
    monkeypatch.setenv("CODEX_ML_GPT2_PATH", str(tmp_path / "gpt2"))
    with pytest.raises(FileNotFoundError, match="directory has none of config.json"):
        paths.resolve("gpt2")


def test_a_file_where_a_folder_is_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("CODEX_ML_TINYLLAMA_PATH", str(tmp_path / "file"))
    with pytest.raises(
        FileNotFoundError, match=r"CODEX_ML_TINYLLAMA_PATH=.*file \(not a directory\)"
    ):
        paths.resolve("tinyllama")


def test_status_reports_found_and_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found, searched = paths.status("gpt2")
    assert found is None and searched[0][0] == "working directory"
    folder = make_folder(tmp_path / "g", "gpt2")
    monkeypatch.setenv("CODEX_ML_GPT2_PATH", str(folder))
    found, searched = paths.status("gpt2")
    assert found == folder and searched[0] == (f"CODEX_ML_GPT2_PATH={folder}", folder)


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = copy_fixture("length_reward", tmp_path / "home" / "lr.json")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.resolve("length_reward", "~/lr.json") == Path(os.path.expanduser("~/lr.json"))
    assert paths.resolve("length_reward", "~/lr.json").samefile(copy)
