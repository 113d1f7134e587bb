"""Seed 000 loaders: load_model_and_tokenizer and load_model_with_optional_lora."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _support import needs

torch = pytest.importorskip("torch")
pytestmark = [needs("transformers", "peft")]

from codex_ml.catalogue import paths
from codex_ml.modeling.codex_model_loader import load_model_with_optional_lora
from codex_ml.models.decoder import DecoderOnlyLM, build_minilm
from codex_ml.models.tiny_checkpoints import write_tiny_gpt2
from codex_ml.registry import model_registry, reload_settings, tokenizer_registry
from codex_ml.tokenizers import ByteTokenizer
from codex_ml.utils.modeling import load_model_and_tokenizer, split_model_and_tokenizer


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gpt2(tmp_path_factory.mktemp("gpt2") / "gpt2")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for var in (*paths.ENV_VARS, "CODEX_MODEL_REGISTRY_DISABLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    with model_registry.snapshot(), tokenizer_registry.snapshot():
        yield tmp_path


def small_model(**_: Any) -> DecoderOnlyLM:
    return build_minilm(vocab_size=259, d_model=16, n_heads=2, n_layers=1)


SHAPES = {
    "tuple": lambda **kw: (small_model(), ByteTokenizer()),
    "mapping": lambda **kw: {"model": small_model(), "tokenizer": ByteTokenizer()},
    "object": lambda **kw: SimpleNamespace(model=small_model(), tokenizer=ByteTokenizer()),
}


# --------------------------------------------------------- load_model_and_tokenizer
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_factory_results_are_normalised(shape: str) -> None:
    model_registry.register(f"shape-{shape}", SHAPES[shape])
    model, tok = load_model_and_tokenizer(f"shape-{shape}")
    assert isinstance(model, DecoderOnlyLM) and isinstance(tok, ByteTokenizer)


def test_factory_receives_dtype_and_device_hints() -> None:
    seen: dict[str, Any] = {}

    def factory(**kwargs: Any) -> DecoderOnlyLM:
        seen.update(kwargs)
        return small_model()

    model_registry.register("hinted", factory)
    load_model_and_tokenizer("hinted", dtype="bf16", device="cpu", extra=1)
    assert seen == {"dtype": "bf16", "device": "cpu", "extra": 1}


def test_bare_model_gets_the_same_named_tokenizer(
    gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_ML_GPT2_PATH", str(gpt2_dir))
    model, tok = load_model_and_tokenizer("gpt2-offline")
    assert type(model).__name__ == "GPT2LMHeadModel"
    assert tok.decode(tok.encode("a small boat")) == "a small boat"
    model, tok = load_model_and_tokenizer("minilm", tokenizer_name_or_path="offline:bytes")
    assert isinstance(model, DecoderOnlyLM) and isinstance(tok, ByteTokenizer)
    assert load_model_and_tokenizer("MiniLM")[1] is None  # no tokenizer named minilm


def test_local_folder_falls_back_to_transformers(gpt2_dir: Path) -> None:
    model, tok = load_model_and_tokenizer(str(gpt2_dir))
    assert type(model).__name__ == "GPT2LMHeadModel"
    assert tok.pad_token is not None


def test_registry_disable_skips_factories(
    gpt2_dir: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(gpt2_dir, isolated / "ckpt" / "gpt2")
    model_registry.register("ckpt/gpt2", SHAPES["tuple"])  # a factory under the folder's own name
    assert isinstance(load_model_and_tokenizer("ckpt/gpt2")[0], DecoderOnlyLM)
    assert isinstance(load_model_with_optional_lora("ckpt/gpt2"), tuple)
    monkeypatch.setenv("CODEX_MODEL_REGISTRY_DISABLE", "1")
    reload_settings()  # the environment is read once per process (docs/guides/registries.md)
    assert type(load_model_and_tokenizer("ckpt/gpt2")[0]).__name__ == "GPT2LMHeadModel"
    assert type(load_model_with_optional_lora("ckpt/gpt2")).__name__ == "GPT2LMHeadModel"
    with pytest.raises(FileNotFoundError, match=r"model 'minilm' is registered, but CODEX_MODEL_REGISTRY_DISABLE=1 "
                       r"bypasses registered models, and it is neither a local checkpoint folder \(looked for "
                       r"\S+minilm\) nor in the local Hugging Face cache; codex_ml never downloads\. Fix: unset "
                       r"CODEX_MODEL_REGISTRY_DISABLE"):
        load_model_and_tokenizer("minilm")  # the registry is off, and it is no folder


def test_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(
        FileNotFoundError,
        match=r"(?s)'nope/model' is not a registered model \(.*minilm.*never downloads",
    ):
        load_model_and_tokenizer("nope/model")


def test_split_rejects_bad_shapes() -> None:
    with pytest.raises(TypeError, match="tuple of 3 items"):
        split_model_and_tokenizer((1, 2, 3))
    with pytest.raises(TypeError, match="mapping without a 'model' key"):
        split_model_and_tokenizer({"tok": 1})


# ------------------------------------------------------- load_model_with_optional_lora
def test_factory_result_is_forwarded_unchanged_without_lora() -> None:
    pair = (small_model(), ByteTokenizer())
    model_registry.register("fixed-pair", lambda **kw: pair)
    assert load_model_with_optional_lora("fixed-pair") is pair
    assert isinstance(load_model_with_optional_lora("minilm"), DecoderOnlyLM)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_lora_keeps_the_shape(shape: str) -> None:
    from peft import PeftModel

    model_registry.register(f"lora-{shape}", SHAPES[shape])
    result = load_model_with_optional_lora(
        f"lora-{shape}", lora={"r": 2, "alpha": 4, "dropout": 0.0}
    )
    model, tok = split_model_and_tokenizer(result)
    assert isinstance(model, PeftModel) and isinstance(tok, ByteTokenizer)
    assert (
        type(result).__name__
        == {"tuple": "tuple", "mapping": "dict", "object": "SimpleNamespace"}[shape]
    )


def test_lora_on_gpt2_targets_c_attn(gpt2_dir: Path) -> None:
    from peft import PeftModelForCausalLM

    model = load_model_with_optional_lora(str(gpt2_dir), lora=True)
    assert isinstance(model, PeftModelForCausalLM)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n and "c_attn" in n for n in trainable)
    out = model(input_ids=torch.tensor([[1, 2, 3]]), labels=torch.tensor([[1, 2, 3]]))
    out.loss.backward()


def test_flat_lora_spelling_and_rank(gpt2_dir: Path) -> None:
    model = load_model_with_optional_lora(
        str(gpt2_dir),
        lora_enabled=True,
        lora_r=3,
        lora_alpha=6,
        lora_target_modules=["c_attn", "c_proj"],
    )
    config = model.peft_config["default"]
    assert (
        config.r == 3
        and config.lora_alpha == 6
        and set(config.target_modules) == {"c_attn", "c_proj"}
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lora": {"rank": 0}}, ValueError, "LoRA rank r must be a positive integer"),
        ({"lora": {"alpah": 3}}, ValueError, "unknown LoRA option 'alpah'"),
        (
            {"lora": {"target_modules": ["nope"]}},
            ValueError,
            r"LoRA target modules \['nope'\] are not linear layers",
        ),
        ({"lora": "yes"}, TypeError, "lora must be True, a mapping"),
        ({"lora_r": 4}, ValueError, "without lora_enabled=True"),
    ],
)
def test_lora_option_errors(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        load_model_with_optional_lora("minilm", **kwargs)
