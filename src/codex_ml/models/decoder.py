"""``decoder_only`` and ``minilm``: a small GPT-style decoder defined in the package (PyTorch).

Pre-LayerNorm transformer blocks with causal multi-head self-attention
(``q_proj``/``k_proj``/``v_proj``/``o_proj``, so LoRA can target them by
name), a GELU MLP (``fc_in``/``fc_out``), learned position embeddings and an
output head tied to the token embedding. ``forward(input_ids,
attention_mask=None, labels=None)`` returns :class:`CausalLMOutput` with
``logits`` ``[B, T, V]`` and, when ``labels`` are given, the shifted
cross-entropy ``loss`` (label -100 ignored), as Hugging Face causal LMs do.
Weights are randomly initialised (seeded by ``seed`` when given).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from codex_ml.utils.dtypes import resolve_dtype


@dataclass(frozen=True)
class DecoderConfig:
    """Hyper-parameters of :class:`DecoderOnlyLM`."""

    vocab_size: int = 259
    d_model: int = 128
    n_layers: int = 2
    n_heads: int = 4
    max_seq_len: int = 256
    dropout: float = 0.0
    d_ff: int | None = None
    tie_embeddings: bool = True
    layer_norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "max_seq_len"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"decoder config: {name} must be a positive integer, got {value!r}"
                )
        if self.d_model % self.n_heads:
            raise ValueError(
                f"decoder config: d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"decoder config: dropout must be in [0, 1), got {self.dropout!r}")

    @property
    def ff_dim(self) -> int:
        return self.d_ff or 4 * self.d_model

    def to_dict(self) -> dict[str, Any]:
        """Plain values, as written into an exported folder's ``codex_ml_model.json``."""
        return dataclasses.asdict(self)


@dataclass
class CausalLMOutput:
    """What :meth:`DecoderOnlyLM.forward` returns: ``logits`` and the optional ``loss``."""

    logits: torch.Tensor
    loss: torch.Tensor | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.q_proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.k_proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.v_proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.o_proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        q, k, v = (
            self._heads(self.q_proj(x)),
            self._heads(self.k_proj(x)),
            self._heads(self.v_proj(x)),
        )
        p = self.dropout if self.training else 0.0
        if mask is None:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        b, _, t, _ = y.shape
        out: torch.Tensor = self.o_proj(y.transpose(1, 2).reshape(b, t, -1))
        return out


class Block(nn.Module):
    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.fc_in = nn.Linear(cfg.d_model, cfg.ff_dim)
        self.fc_out = nn.Linear(cfg.ff_dim, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln_1(x), mask))
        out: torch.Tensor = x + self.drop(self.fc_out(F.gelu(self.fc_in(self.ln_2(x)))))
        return out


def _attention_mask(attention_mask: torch.Tensor, t: int) -> torch.Tensor:
    """Boolean ``[B, 1, T, T]``: causal, padded keys hidden, each position always sees itself."""
    causal = torch.ones(t, t, dtype=torch.bool, device=attention_mask.device).tril()
    keys = attention_mask.bool()[:, None, None, :]
    eye = torch.eye(t, dtype=torch.bool, device=attention_mask.device)
    return (causal & keys) | eye


class DecoderOnlyLM(nn.Module):
    """GPT-style causal language model; see the module docstring."""

    main_input_name = "input_ids"

    def __init__(self, config: DecoderConfig | None = None, **overrides: Any) -> None:
        super().__init__()
        cfg = (
            dataclasses.replace(config or DecoderConfig(), **overrides)
            if overrides
            else (config or DecoderConfig())
        )
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_seq_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.apply(self._init_weights)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.tok_emb.weight

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def _check_ids(self, input_ids: torch.Tensor) -> torch.Tensor:
        if not isinstance(input_ids, torch.Tensor) or input_ids.dtype not in (
            torch.long,
            torch.int,
            torch.int32,
        ):
            raise TypeError("input_ids must be an integer torch tensor of shape [batch, seq_len]")
        ids = input_ids.long()
        if ids.dim() == 1:
            ids = ids.unsqueeze(0)
        if ids.dim() != 2:
            raise ValueError(
                f"input_ids must have shape [batch, seq_len], got {tuple(input_ids.shape)}"
            )
        if ids.shape[1] > self.config.max_seq_len:
            raise ValueError(
                f"sequence length {ids.shape[1]} exceeds max_seq_len={self.config.max_seq_len}"
            )
        # On a GPU this check would force a host sync every step; there an
        # out-of-range id trips the embedding's own device-side assert instead.
        if ids.numel() and not ids.is_cuda and (ids.min() < 0 or ids.max() >= self.config.vocab_size):
            raise ValueError(
                f"input_ids hold ids outside the vocabulary 0..{self.config.vocab_size - 1} "
                f"(min {int(ids.min())}, max {int(ids.max())}); is vocab_size right for the tokenizer?"
            )
        return ids

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **_: Any,
    ) -> CausalLMOutput:
        ids = self._check_ids(input_ids)
        t = ids.shape[1]
        pos = torch.arange(t, device=ids.device)
        x = self.drop(self.tok_emb(ids) + self.pos_emb(pos)[None])
        mask = None if attention_mask is None else _attention_mask(attention_mask.to(ids.device), t)
        for block in self.blocks:
            x = block(x, mask)
        logits = self.lm_head(self.ln_f(x))
        loss = None if labels is None else causal_lm_loss(logits, labels)
        return CausalLMOutput(logits=logits, loss=loss)

    @torch.no_grad()
    def generate(
        self, input_ids: torch.Tensor, max_new_tokens: int = 20, eos_token_id: int | None = None
    ) -> torch.Tensor:
        """Greedy decoding; returns the prompt followed by up to ``max_new_tokens`` ids."""
        ids = self._check_ids(input_ids)
        for _ in range(max_new_tokens):
            logits = self(ids[:, -self.config.max_seq_len :]).logits[:, -1]
            nxt = logits.argmax(dim=-1, keepdim=True)
            ids = torch.cat([ids, nxt], dim=1)
            if eos_token_id is not None and bool((nxt == eos_token_id).all()):
                break
        return ids

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``logits[:, :-1]`` against ``labels[:, 1:]``; -100 is ignored."""
    shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1])
    shift_labels = labels[:, 1:].reshape(-1).to(logits.device).long()
    return F.cross_entropy(shift_logits.float(), shift_labels, ignore_index=-100)


MINILM_PRESET = {"d_model": 64, "n_layers": 2, "n_heads": 2, "max_seq_len": 128}
_FIELDS = frozenset(f.name for f in dataclasses.fields(DecoderConfig))


def _build(defaults: dict[str, Any], kwargs: dict[str, Any], entry: str) -> DecoderOnlyLM:
    dtype, device, seed = (
        kwargs.pop("dtype", None),
        kwargs.pop("device", None),
        kwargs.pop("seed", None),
    )
    unknown = sorted(set(kwargs) - _FIELDS)
    if unknown:
        raise TypeError(
            f"{entry} got unknown option(s) {unknown}; accepted: {sorted(_FIELDS | {'dtype', 'device', 'seed'})}"
        )
    if seed is not None:
        torch.manual_seed(int(seed))
    model = DecoderOnlyLM(DecoderConfig(**{**defaults, **kwargs}))
    torch_dtype = resolve_dtype(dtype)
    if torch_dtype is not None:
        model = model.to(torch_dtype)
    return model.to(device) if device is not None else model


def build_decoder_only(**kwargs: Any) -> DecoderOnlyLM:
    """Catalogue factory of ``decoder_only``: any :class:`DecoderConfig` field, plus dtype/device/seed."""
    return _build({}, dict(kwargs), "decoder_only")


def build_minilm(**kwargs: Any) -> DecoderOnlyLM:
    """Catalogue factory of ``minilm``: the small preset (d_model 64, 2 layers, 2 heads, 128 positions)."""
    return _build(dict(MINILM_PRESET), dict(kwargs), "minilm")
