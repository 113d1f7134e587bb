"""gpt2-offline, tinyllama-offline and hf: tiny random checkpoints built here, loaded offline."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
from pathlib import Path

import pytest
from _support import needs

torch = pytest.importorskip("torch")
pytestmark = [needs("transformers")]

from codex_ml.catalogue import integrity
from codex_ml.models.hf_offline import (
    IncompleteCheckpointError,
    UnsafeCheckpointError,
    build_gpt2_offline,
    load_local_causal_lm,
)
from codex_ml.registry._errors import UnsafeFileError
from codex_ml.models.tiny_checkpoints import write_manifest, write_tiny_gpt2, write_tiny_llama
from codex_ml.tokenizers.hf import build_hf_tokenizer, build_tinyllama_tokenizer
from codex_ml.tokenizers.sentencepiece_model import SentencePieceTokenizer

IDS = [[1, 2, 3, 4]]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ckpts")
    write_tiny_gpt2(root / "gpt2")
    write_tiny_gpt2(root / "gpt2-bin", weights="bin")
    write_tiny_llama(root / "tinyllama")
    write_tiny_llama(root / "tinyllama-json", weights="bin", tokenizer="json")
    return root


pytestmark.append(pytest.mark.usefixtures("clean_env"))  # conftest: no catalogue variable, empty CWD


def copy_ckpt(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def logits(model: object) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor(IDS)).logits  # type: ignore[operator,attr-defined]


class WritesAFile:
    """Unpickling this calls open(path, "w"): proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


# ------------------------------------------------------------------- models
def test_gpt2_safetensors_and_bin_give_the_same_model(checkpoints: Path) -> None:
    a = build_gpt2_offline(checkpoints / "gpt2")
    b = build_gpt2_offline(checkpoints / "gpt2-bin")
    assert type(a).__name__ == "GPT2LMHeadModel"
    assert logits(a).shape == (1, 4, a.config.vocab_size)
    assert torch.allclose(logits(a), logits(b))
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_registry_loads_both_through_env_vars(
    checkpoints: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codex_ml.registry import model_registry, tokenizer_registry

    monkeypatch.setenv("CODEX_ML_GPT2_PATH", str(checkpoints / "gpt2"))
    monkeypatch.setenv("CODEX_ML_TINYLLAMA_PATH", str(checkpoints / "tinyllama"))
    gpt2 = model_registry.create("gpt2-offline")
    llama = model_registry.create("tinyllama-offline", dtype="float32")
    assert type(gpt2).__name__ == "GPT2LMHeadModel" and type(llama).__name__ == "LlamaForCausalLM"
    gpt2_tok = tokenizer_registry.create("gpt2-offline")  # falls back to CODEX_ML_GPT2_PATH
    assert gpt2_tok.decode(gpt2_tok.encode("the cat sat")) == "the cat sat"
    llama_tok = tokenizer_registry.create("tinyllama-offline")
    assert isinstance(llama_tok, SentencePieceTokenizer)
    ids = llama_tok.encode("the cat sat on the mat")
    assert ids[0] == llama_tok.bos_token_id and llama_tok.decode(ids) == "the cat sat on the mat"
    assert logits(llama).shape[-1] == llama_tok.vocab_size


def test_models_root_and_working_directory(
    checkpoints: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codex_ml.registry import model_registry, tokenizer_registry

    with pytest.raises(
        FileNotFoundError, match=r"(?s)GPT-2 checkpoint folder.*1\. working directory"
    ):
        model_registry.create("gpt2-offline")
    copy_ckpt(checkpoints / "gpt2", clean_env / "artifacts" / "models" / "gpt2")
    assert type(model_registry.create("gpt2-offline")).__name__ == "GPT2LMHeadModel"
    root = clean_env.parent / "models-root"
    copy_ckpt(checkpoints / "tinyllama-json", root / "tinyllama")
    monkeypatch.setenv("CODEX_ML_OFFLINE_MODELS_DIR", str(root))
    assert type(model_registry.create("tinyllama-offline")).__name__ == "LlamaForCausalLM"
    tok = tokenizer_registry.create("tinyllama-offline")  # tokenizer.json wins: transformers
    assert not isinstance(tok, SentencePieceTokenizer)
    assert tok.decode(tok.encode("hello world", add_special_tokens=False)) == "hello world"
    with pytest.raises(FileNotFoundError, match="CODEX_ML_OFFLINE_MODELS_DIR=.*gpt2 \\(missing\\)"):
        model_registry.create("gpt2-offline")  # the root is set: the CWD copy is not used


def test_tokenizer_env_vars(checkpoints: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.registry import tokenizer_registry

    monkeypatch.setenv("CODEX_ML_GPT2_TOKENIZER_PATH", str(checkpoints / "gpt2-bin"))
    assert tokenizer_registry.create("gpt2-offline").pad_token is not None
    monkeypatch.setenv("CODEX_ML_TINYLLAMA_TOKENIZER_PATH", str(checkpoints / "tinyllama"))
    assert isinstance(tokenizer_registry.create("tinyllama-offline"), SentencePieceTokenizer)
    monkeypatch.setenv("CODEX_ML_TINYLLAMA_TOKENIZER_PATH", str(checkpoints / "absent"))
    with pytest.raises(
        FileNotFoundError, match=r"1\. CODEX_ML_TINYLLAMA_TOKENIZER_PATH=.*absent \(missing\)"
    ):
        tokenizer_registry.create("tinyllama-offline")


def test_hf_tokenizer_needs_a_local_name_or_path(checkpoints: Path) -> None:
    from codex_ml.registry import tokenizer_registry

    tok = tokenizer_registry.create("hf", name_or_path=str(checkpoints / "gpt2"))
    assert tok.decode(tok.encode("a dog ran")) == "a dog ran"
    with pytest.raises(ValueError, match="needs name_or_path"):
        build_hf_tokenizer()
    with pytest.raises(
        FileNotFoundError, match="not a local folder and is not in the local Hugging Face cache"
    ):
        build_hf_tokenizer("no-such-org/no-such-tokenizer")
    with pytest.raises(ValueError, match="is a file; pass the folder"):
        build_hf_tokenizer(checkpoints / "gpt2" / "config.json")


def test_tinyllama_tokenizer_folder_without_files(tmp_path: Path) -> None:
    folder = tmp_path / "tl"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="has neither tokenizer.json nor tokenizer.model"):
        build_tinyllama_tokenizer(folder)


# ----------------------------------------------------------------- safety
def test_malicious_raw_pickle_is_refused_not_executed(checkpoints: Path, tmp_path: Path) -> None:
    folder = tmp_path / "evil"
    folder.mkdir()
    shutil.copy(checkpoints / "gpt2-bin" / "config.json", folder)
    marker = tmp_path / "pwned"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"w": WritesAFile(marker)}, protocol=2))
    with pytest.raises(
        UnsafeCheckpointError,
        match=r"refusing to load .*pytorch_model\.bin.*Unsupported global: GLOBAL io\.open",
    ):
        load_local_causal_lm(folder)
    assert not marker.exists()


def test_malicious_torch_save_is_refused_not_executed(checkpoints: Path, tmp_path: Path) -> None:
    folder = copy_ckpt(checkpoints / "gpt2-bin", tmp_path / "evil-zip")
    marker = tmp_path / "pwned-zip"
    state = torch.load(folder / "pytorch_model.bin", weights_only=True)
    state["extra"] = WritesAFile(marker)
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(
        UnsafeCheckpointError, match="refusing to load .*Nothing in it was executed"
    ):
        build_gpt2_offline(folder)
    assert not marker.exists()


def test_safetensors_is_preferred_over_bin(checkpoints: Path, tmp_path: Path) -> None:
    folder = copy_ckpt(checkpoints / "gpt2", tmp_path / "both")
    marker = tmp_path / "pwned-pref"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(WritesAFile(marker)))
    assert type(build_gpt2_offline(folder)).__name__ == "GPT2LMHeadModel"
    assert not marker.exists()


def test_incomplete_checkpoint_is_refused(checkpoints: Path, tmp_path: Path) -> None:
    folder = copy_ckpt(checkpoints / "gpt2-bin", tmp_path / "partial")
    state = torch.load(folder / "pytorch_model.bin", weights_only=True)
    del state["transformer.h.0.ln_1.weight"]
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(
        IncompleteCheckpointError, match=r"missing weights \['transformer\.h\.0\.ln_1\.weight'\]"
    ):
        build_gpt2_offline(folder)


def test_folder_without_weights(checkpoints: Path, tmp_path: Path) -> None:
    folder = tmp_path / "noweights"
    folder.mkdir()
    shutil.copy(checkpoints / "gpt2" / "config.json", folder)
    with pytest.raises(
        FileNotFoundError, match="has no weights: expected one of model.safetensors"
    ):
        build_gpt2_offline(folder)


def test_sha256sums_manifest(checkpoints: Path, tmp_path: Path) -> None:
    folder = copy_ckpt(checkpoints / "gpt2", tmp_path / "signed")
    write_manifest(folder)
    assert "model.safetensors" in integrity.verify_directory(folder)
    assert type(build_gpt2_offline(folder)).__name__ == "GPT2LMHeadModel"
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(
        integrity.IntegrityError, match=r"checksum mismatch for .*model\.safetensors"
    ):
        build_gpt2_offline(folder)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert digest in str(pytest.raises(integrity.IntegrityError, build_gpt2_offline, folder).value)


def test_tokenizer_checks_its_files_but_not_the_weights(checkpoints: Path, tmp_path: Path) -> None:
    folder = copy_ckpt(checkpoints / "gpt2", tmp_path / "tok-signed")
    write_manifest(folder)
    (folder / "model.safetensors").write_bytes(b"changed")  # weights: a model load would refuse
    assert build_hf_tokenizer(folder).decode([]) == ""
    (folder / "tokenizer.json").write_text("{}")
    with pytest.raises(integrity.IntegrityError, match=r"checksum mismatch for .*tokenizer\.json"):
        build_hf_tokenizer(folder)


@pytest.mark.parametrize("made_writable", [".", "config.json", "model.safetensors", "tokenizer.json"])
def test_a_model_folder_other_accounts_can_change_is_refused(checkpoints: Path, tmp_path: Path,
                                                             made_writable: str) -> None:
    folder = copy_ckpt(checkpoints / "gpt2", tmp_path / "gpt2")
    if not (folder / made_writable).exists():
        pytest.skip(f"the tiny checkpoint has no {made_writable}")
    (folder / made_writable).chmod((folder / made_writable).stat().st_mode | 0o002)
    what = re.escape(str((folder / made_writable).resolve() if made_writable == "." else folder / made_writable))
    kept = "the folder" if made_writable == "." else r"the file \(a regular file\)"
    problem = rf"^refusing to read {what}: it is writable by other users \(mode \d+\)\. .* Fix: keep {kept} in "
    with pytest.raises(UnsafeFileError, match=problem):
        load_local_causal_lm(folder)
    with pytest.raises(UnsafeFileError, match=problem):
        build_hf_tokenizer(name_or_path=str(folder))
