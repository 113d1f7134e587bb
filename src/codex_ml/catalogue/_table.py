"""The built-in offline catalogue as data: ``(kind, name, "module:attr", metadata)`` rows.

Stdlib only and nothing imported: :mod:`codex_ml.catalogue` registers each row
lazily, so listing the catalogue imports none of the target modules (and no
torch). ``metadata["resource"]`` names the :mod:`codex_ml.catalogue.paths`
resource whose files the entry reads, so the CLI can say whether they are
present. ``factory`` is given only where it differs from the kind's default
(metrics default to "return the function as is").
"""

from __future__ import annotations

VERSION = "0.1.0"
AUTHOR = "codex_ml"

Row = tuple[str, str, str, dict[str, object]]


def _row(
    kind: str, name: str, target: str, description: str, tags: tuple[str, ...], **extra: object
) -> Row:
    meta: dict[str, object] = {
        "description": description,
        "tags": tags,
        "version": VERSION,
        "author": AUTHOR,
    }
    meta.update(extra)
    return (kind, name, target, meta)


_TOK = "codex_ml.tokenizers"
_MOD = "codex_ml.models"
_MET = "codex_ml.metrics"

TOKENIZERS: tuple[Row, ...] = (
    _row(
        "tokenizers",
        "hf",
        f"{_TOK}.hf:build_hf_tokenizer",
        "Hugging Face tokenizer from a local folder given as name_or_path (offline only).",
        ("hf", "local"),
    ),
    _row(
        "tokenizers",
        "gpt2-offline",
        f"{_TOK}.hf:build_gpt2_tokenizer",
        "GPT-2 tokenizer from artifacts/models/gpt2/ (tokenizer.json or vocab.json + merges.txt).",
        ("hf", "gpt2", "offline"),
        resource="gpt2_tokenizer",
    ),
    _row(
        "tokenizers",
        "tinyllama-offline",
        f"{_TOK}.hf:build_tinyllama_tokenizer",
        "TinyLlama tokenizer from artifacts/models/tinyllama/ (tokenizer.json, else tokenizer.model).",
        ("hf", "llama", "sentencepiece", "offline"),
        resource="tinyllama_tokenizer",
    ),
    _row(
        "tokenizers",
        "offline:tiny-vocab",
        f"{_TOK}.vocab:build_tiny_vocab_tokenizer",
        "Six-token word-level vocabulary from artifacts/models/tiny_tokenizer/vocab.json.",
        ("tiny", "offline", "fixture"),
        resource="tiny_tokenizer",
    ),
    _row(
        "tokenizers",
        "offline:bytes",
        f"{_TOK}.bytes:build_byte_tokenizer",
        "Byte-level UTF-8 tokenizer (259 ids), no files: the default for the in-package LMs.",
        ("bytes", "offline", "no-files"),
    ),
)

MODELS: tuple[Row, ...] = (
    _row(
        "models",
        "minilm",
        f"{_MOD}.decoder:build_minilm",
        "Small preset of decoder_only (d_model 64, 2 layers, 2 heads), randomly initialised.",
        ("causal-lm", "torch", "in-package"),
    ),
    _row(
        "models",
        "decoder_only",
        f"{_MOD}.decoder:build_decoder_only",
        "Configurable GPT-style decoder (vocab_size, d_model, n_layers, n_heads, max_seq_len, dropout).",
        ("causal-lm", "torch", "in-package"),
    ),
    _row(
        "models",
        "gpt2-offline",
        f"{_MOD}.hf_offline:build_gpt2_offline",
        "GPT-2 causal LM from artifacts/models/gpt2/ (safetensors preferred, .bin weights_only).",
        ("causal-lm", "torch", "hf", "gpt2", "offline"),
        resource="gpt2",
    ),
    _row(
        "models",
        "tinyllama-offline",
        f"{_MOD}.hf_offline:build_tinyllama_offline",
        "TinyLlama causal LM from artifacts/models/tinyllama/ (safetensors preferred, .bin weights_only).",
        ("causal-lm", "torch", "hf", "llama", "offline"),
        resource="tinyllama",
    ),
    _row(
        "models",
        "offline:tiny-sequence",
        f"{_MOD}.tiny_sequence:build_tiny_sequence_model",
        "Smoothed n-gram model from model.json; deterministic generate(); trainable without torch.",
        ("tiny", "offline", "fixture", "no-torch"),
        resource="tiny_sequence",
    ),
)

DATA_LOADERS: tuple[Row, ...] = (
    _row(
        "data_loaders",
        "lines",
        "codex_ml.data.lines:LinesDataset",
        "Streams the lines of any plain-text file given as path, in constant memory.",
        ("text", "streaming"),
    ),
    _row(
        "data_loaders",
        "offline:tiny-corpus",
        "codex_ml.data.tiny_corpus:load_tiny_corpus",
        "The tiny English corpus of data/offline/tiny_corpus.txt, one record per line.",
        ("text", "tiny", "offline", "fixture"),
        resource="tiny_corpus",
    ),
)

METRICS: tuple[Row, ...] = (
    _row(
        "metrics",
        "accuracy@token",
        f"{_MET}.token:token_accuracy",
        "Share of token ids predicted right; targets equal to ignore_index (-100) are skipped.",
        ("token", "accuracy"),
    ),
    _row(
        "metrics",
        "ppl",
        f"{_MET}.token:perplexity",
        "Perplexity: exp of the mean per-token negative log-likelihood (natural log).",
        ("token", "perplexity", "lm"),
    ),
    _row(
        "metrics",
        "exact_match",
        f"{_MET}.squad:exact_match",
        "SQuAD exact match after answer normalisation (case, punctuation, articles, whitespace).",
        ("qa", "squad", "text"),
    ),
    _row(
        "metrics",
        "f1",
        f"{_MET}.squad:f1",
        "SQuAD token F1 between prediction and best reference after answer normalisation.",
        ("qa", "squad", "text"),
    ),
    _row(
        "metrics",
        "dist-1",
        f"{_MET}.diversity:distinct_1",
        "Distinct-1: unique unigrams / unigrams over generated texts.",
        ("diversity", "generation", "text"),
    ),
    _row(
        "metrics",
        "dist-2",
        f"{_MET}.diversity:distinct_2",
        "Distinct-2: unique bigrams / bigrams over generated texts.",
        ("diversity", "generation", "text"),
    ),
    _row(
        "metrics",
        "offline:weighted-accuracy",
        f"{_MET}.weighted:build_weighted_accuracy",
        "Accuracy weighted per label, weights from data/offline/weighted_accuracy.json.",
        ("accuracy", "offline", "fixture"),
        factory=True,
        resource="weighted_accuracy",
    ),
)

OTHERS: tuple[Row, ...] = (
    _row(
        "trainers",
        "offline:functional",
        "codex_ml.training.functional:build_functional_trainer",
        "Functional trainer configured by data/offline/trainer_functional.json.",
        ("offline", "fixture", "functional"),
        resource="functional_trainer_config",
    ),
    _row(
        "reward_models",
        "offline:heuristic",
        "codex_ml.rewards.heuristic:HeuristicRewardModel",
        "In-memory reward from relevance to the prompt, diversity and length of the completion.",
        ("offline", "heuristic", "no-files"),
    ),
    _row(
        "reward_models",
        "offline:length",
        "codex_ml.rewards.length:build_length_reward",
        "Reward for hitting a target length, configured by data/offline/length_reward.json.",
        ("offline", "fixture", "length"),
        resource="length_reward",
    ),
    _row(
        "rl_agents",
        "offline:scripted",
        "codex_ml.rl.scripted:build_scripted_agent",
        "Rule-based policy from artifacts/rl/scripted_agent/policy.json.",
        ("offline", "fixture", "scripted"),
        resource="scripted_agent",
    ),
)

LOGGERS: tuple[Row, ...] = (
    _row("loggers", "jsonl", "codex_ml.loggers.jsonl:build_jsonl_logger",
         "metrics.jsonl in the run folder, one JSON object per logged step (the default).",
         ("logger", "no-files")),
    _row("loggers", "tensorboard", "codex_ml.loggers.tensorboard:build_tensorboard_logger",
         "TensorBoard event files in <run>/tensorboard (extra: codex-ml[tensorboard]).",
         ("logger", "tensorboard")),
)

BUILTINS: tuple[Row, ...] = TOKENIZERS + MODELS + DATA_LOADERS + METRICS + OTHERS + LOGGERS
