"""decoder_only and minilm: shapes, masks, validation, and they learn."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from codex_ml.data import load_tiny_corpus
from codex_ml.models.decoder import (
    DecoderConfig,
    DecoderOnlyLM,
    build_decoder_only,
    build_minilm,
    causal_lm_loss,
)
from codex_ml.tokenizers import ByteTokenizer


def corpus_batch(n: int = 16, length: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    tok = ByteTokenizer()
    rows = [tok.encode(line)[:length] for line in list(load_tiny_corpus())[:n]]
    ids = torch.full((n, length), tok.pad_token_id)
    labels = torch.full((n, length), -100)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        labels[i, : len(row)] = torch.tensor(row)
    return ids, labels


def train_steps(model: torch.nn.Module, steps: int = 15) -> list[float]:
    ids, labels = corpus_batch()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(steps):
        out = model(input_ids=ids, attention_mask=(labels != -100).long(), labels=labels)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(float(out.loss.detach()))
    return losses


@pytest.mark.parametrize("factory", [build_minilm, build_decoder_only])
def test_logits_shape_like_hf(factory) -> None:  # type: ignore[no-untyped-def]
    model = factory(vocab_size=50, seed=0)
    out = model(torch.randint(0, 50, (3, 7)))
    assert out.logits.shape == (3, 7, 50)
    assert out.loss is None and out["logits"] is out.logits


@pytest.mark.parametrize("factory", [build_minilm, build_decoder_only])
def test_loss_falls_in_a_few_adamw_steps(factory) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    losses = train_steps(factory(vocab_size=259))
    assert losses[0] == pytest.approx(
        torch.log(torch.tensor(259.0)).item(), rel=0.1
    )  # ~uniform at init
    assert losses[-1] < losses[0] - 1.0


def test_minilm_is_the_small_preset() -> None:
    small, big = build_minilm(), build_decoder_only()
    assert small.config.d_model == 64 and small.config.n_layers == 2 and small.config.n_heads == 2
    assert small.num_parameters() < big.num_parameters()
    assert build_minilm(n_layers=3).config.n_layers == 3


def test_configurable_and_tied() -> None:
    model = build_decoder_only(
        vocab_size=30, d_model=24, n_layers=3, n_heads=3, max_seq_len=16, dropout=0.1
    )
    assert len(model.blocks) == 3 and model.pos_emb.num_embeddings == 16
    assert model.lm_head.weight is model.tok_emb.weight
    untied = build_decoder_only(vocab_size=30, tie_embeddings=False)
    assert untied.lm_head.weight is not untied.tok_emb.weight


def test_causal_no_future_leak() -> None:
    model = build_decoder_only(vocab_size=20, seed=1).eval()
    ids = torch.tensor([[1, 2, 3, 4]])
    changed = ids.clone()
    changed[0, 3] = 9
    a, b = model(ids).logits, model(changed).logits
    assert torch.allclose(a[:, :3], b[:, :3], atol=1e-6)
    assert not torch.allclose(a[:, 3], b[:, 3])


def test_padding_mask_keeps_real_positions() -> None:
    model = build_decoder_only(vocab_size=20, seed=2).eval()
    short = model(torch.tensor([[5, 6, 7]])).logits
    padded = model(
        torch.tensor([[5, 6, 7, 0, 0]]), attention_mask=torch.tensor([[1, 1, 1, 0, 0]])
    ).logits
    assert torch.allclose(short, padded[:, :3], atol=1e-5)
    assert torch.isfinite(padded).all()


def test_loss_ignores_minus_100() -> None:
    logits = torch.randn(1, 4, 5)
    labels = torch.tensor([[0, 1, -100, 3]])
    expected = torch.nn.functional.cross_entropy(logits[0, [0, 2]], torch.tensor([1, 3]))
    assert torch.allclose(causal_lm_loss(logits, labels), expected)


def test_greedy_generate() -> None:
    model = build_minilm(vocab_size=12, seed=3)
    out = model.generate(torch.tensor([[1, 2]]), max_new_tokens=5)
    assert out.shape == (1, 7) and out[0, :2].tolist() == [1, 2]
    assert torch.equal(out, model.generate(torch.tensor([[1, 2]]), max_new_tokens=5))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"d_model": 30, "n_heads": 4},
            ValueError,
            r"d_model \(30\) must be divisible by n_heads \(4\)",
        ),
        ({"vocab_size": 0}, ValueError, "vocab_size must be a positive integer"),
        ({"dropout": 1.5}, ValueError, r"dropout must be in \[0, 1\)"),
        ({"hidden": 3}, TypeError, r"decoder_only got unknown option\(s\) \['hidden'\]"),
    ],
)
def test_bad_config(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build_decoder_only(**kwargs)


def test_bad_inputs() -> None:
    model = build_minilm(vocab_size=10, max_seq_len=4)
    with pytest.raises(ValueError, match="outside the vocabulary 0..9"):
        model(torch.tensor([[1, 10]]))
    with pytest.raises(ValueError, match="exceeds max_seq_len=4"):
        model(torch.zeros(1, 5, dtype=torch.long))
    with pytest.raises(TypeError, match="integer torch tensor"):
        model(torch.zeros(1, 3))


def test_dtype_hint() -> None:
    model = build_minilm(vocab_size=10, dtype="bf16")
    assert next(model.parameters()).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype 'int3'"):
        build_minilm(dtype="int3")


def test_registry_builds_trainable_models() -> None:
    from codex_ml.registry import model_registry

    model = model_registry.create("decoder_only", vocab_size=259, d_model=32, n_heads=2, n_layers=1)
    assert isinstance(model, DecoderOnlyLM) and model.config == DecoderConfig(
        vocab_size=259, d_model=32, n_heads=2, n_layers=1
    )
    assert isinstance(model_registry.create("MiniLM"), DecoderOnlyLM)
    assert isinstance(model_registry.create("decoder-only"), DecoderOnlyLM)


def test_lora_on_the_decoder_trains_only_adapters() -> None:
    pytest.importorskip("peft")
    from codex_ml.modeling.lora import apply_lora

    torch.manual_seed(0)
    base = build_minilm(vocab_size=259)
    frozen = {n: p.detach().clone() for n, p in base.named_parameters()}
    model = apply_lora(base, {"r": 4, "alpha": 8, "dropout": 0.0})
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert any("q_proj" in n for n in trainable) and any("v_proj" in n for n in trainable)
    losses = train_steps(model, steps=10)
    assert losses[-1] < losses[0]
    for name, param in base.named_parameters():
        if "lora_" not in name:
            key = name.replace("base_layer.", "")
            assert torch.equal(param, frozen[key]), name
