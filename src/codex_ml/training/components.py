"""The parts of a run, each built BY NAME through its registry.

Nothing here names a concrete class: ``model.name=decoder_only`` and a
pip-installed plugin's ``model.name=my-model`` take the same path, which is
what lets a plugin work from the command line with no code change. Unknown
names raise the registry's ``UnknownComponentError`` (with its "did you
mean"); arguments a component rejects become a :class:`TrainingConfigError`
that names the config section to fix.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from codex_ml.training.errors import TrainingConfigError


def _registries() -> Any:
    # Imported late so that importing codex_ml.training stays free of discovery work.
    from codex_ml import registry

    return registry


def _signature_problem(target: Any, kwargs: Mapping[str, Any]) -> str:
    """Why ``target(**kwargs)`` cannot bind, or an empty string."""
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):  # builtins and C callables: let the call decide
        return ""
    try:
        sig.bind(**kwargs)
    except TypeError as exc:
        accepted = [p for p in sig.parameters if p not in ("self", "args", "kwargs")]
        return f"{exc}; it accepts: {', '.join(accepted) or '(no arguments)'}"
    return ""


def create(registry: Any, name: str, kwargs: Mapping[str, Any], section: str) -> Any:
    """``registry.create(name, **kwargs)`` with errors that point at ``section`` of the config."""
    target = registry[name]  # UnknownComponentError (a KeyError) with close matches
    entry = registry.entry(name)
    if entry.factory and callable(target):
        problem = _signature_problem(target, kwargs)
        if problem:
            raise TrainingConfigError(
                f"{registry.label} {name!r} cannot take the arguments in {section}: {problem}. "
                f"Fix {section} in the config or on the command line.")
    try:
        return registry.create(name, **dict(kwargs))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, (_registries().RegistryError, TrainingConfigError)):
            raise  # already names the entry (or the setting) and the fix
        raise TrainingConfigError(
            f"{registry.label} {name!r} could not be built from {section}: {exc}. "
            f"Fix {section} in the config or on the command line.") from exc


def section(cfg: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = cfg.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TrainingConfigError(f"config key {key!r} must be a mapping, found {value!r}.")
    return dict(value)


def _kwargs(part: Mapping[str, Any], key: str = "kwargs") -> dict[str, Any]:
    value = part.get(key) or {}
    if not isinstance(value, Mapping):
        raise TrainingConfigError(f"{key} must be a mapping of argument names to values.")
    return dict(value)


def _same_name(a: Any, b: Any) -> bool:
    return str(a).strip().lower().replace("-", "_") == str(b).strip().lower().replace("-", "_")


def own_kwargs(part: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``kwargs`` when they were written for ``name`` (``kwargs_for``), else none.

    A config group option (``model/decoder_only.yaml``) carries the arguments of
    ITS component; ``model.name=<plugin>`` must not hand them to another one.
    """
    owner = part.get("kwargs_for")
    if owner and not _same_name(owner, name):
        return {}
    return _kwargs(part)


def claim_kwargs(cfg: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """After ``<section>.name=X`` on the command line, the kwargs given there are X's own.

    ``model.name=plugin model.kwargs.width=8`` passes exactly ``width=8``;
    ``model.name=plugin`` alone passes none; ``model.kwargs={}`` means none.
    """
    from codex_ml.training.confignames import override_keys

    keys = override_keys(overrides)
    for section in ("model", "tokenizer", "dataset_loader"):
        part = cfg.get(section)
        if not isinstance(part, dict) or f"{section}.name" not in keys:
            continue
        given = {k.split(".", 2)[2] for k in keys if k.startswith(f"{section}.kwargs.")}
        whole = f"{section}.kwargs" in keys
        kwargs = _kwargs(part)
        part["kwargs"] = kwargs if whole else {k: v for k, v in kwargs.items() if k in given}
        part["kwargs_for"] = part.get("name")
    return cfg


def _required_name(part: Mapping[str, Any], where: str) -> str:
    name = part.get("name")
    if not isinstance(name, str) or not name:
        raise TrainingConfigError(f"{where}.name is not set: choose a registered {where}, e.g. "
                                  f"{where}.name=... (`codex-ml ls` lists them).")
    return name


def build_tokenizer(cfg: Mapping[str, Any]) -> Any:
    """``tokenizer.name`` with ``tokenizer.kwargs`` (and ``name_or_path`` when set)."""
    part = section(cfg, "tokenizer")
    name = _required_name(part, "tokenizer")
    kwargs = own_kwargs(part, name)
    if part.get("name_or_path") is not None:
        kwargs["name_or_path"] = part["name_or_path"]
    if part.get("path") is not None:
        kwargs["path"] = part["path"]
    return create(_registries().tokenizer_registry, name, kwargs, "tokenizer.kwargs")


def vocab_size_of(tokenizer: Any) -> int:
    """The number of ids a tokenizer can emit (``len`` counts added tokens, HF style)."""
    sizes = [getattr(tokenizer, "vocab_size", None)]
    if hasattr(tokenizer, "__len__"):
        sizes.append(len(tokenizer))
    known = [int(s) for s in sizes if isinstance(s, int)]
    if not known:
        raise TrainingConfigError(f"tokenizer {type(tokenizer).__name__} has no vocab_size; "
                                  "tokenizers must expose vocab_size.")
    return max(known)


def tokenizer_vocab(tokenizer: Any) -> int | None:
    """``vocab_size_of``, or None for a tokenizer that does not say (nothing is then cut off)."""
    try:
        return vocab_size_of(tokenizer)
    except TrainingConfigError:
        return None


def torch_free_model(cfg: Mapping[str, Any]) -> bool:
    """Whether the configured model's entry is tagged ``no-torch`` (so seeding skips torch)."""
    name = section(cfg, "model").get("name")
    if not isinstance(name, str) or not name:
        return False
    registry = _registries().model_registry
    return name in registry and "no-torch" in (registry.metadata(name).get("tags") or ())


def build_model(cfg: Mapping[str, Any], tokenizer: Any, *, new_run: bool = True) -> tuple[Any, Any]:
    """``model.name`` with ``model.kwargs``; returns ``(model, tokenizer)``.

    ``model.vocab_size: tokenizer`` passes the tokenizer's size, so a model
    trained from scratch fits whatever tokenizer the config picked. A factory
    may return a ``(model, tokenizer)`` pair (docs/compatibility.md); its tokenizer then wins.
    """
    part = section(cfg, "model")
    name = _required_name(part, "model")
    kwargs = own_kwargs(part, name)
    if part.get("path") is not None:
        kwargs["path"] = part["path"]
    vocab = part.get("vocab_size")
    if vocab == "tokenizer":
        kwargs["vocab_size"] = vocab_size_of(tokenizer)
    elif vocab is not None:
        kwargs["vocab_size"] = vocab
    product = create(_registries().model_registry, name, kwargs, "model.kwargs")
    from codex_ml.utils.modeling import split_model_and_tokenizer

    model, own_tokenizer = split_model_and_tokenizer(product)
    if part.get("lora") is not None:  # model.lora.r=8: peft adapters (docs/guides/after_training.md)
        from codex_ml.modeling.lora import apply_lora_config

        model = apply_lora_config(model, part["lora"])
    tokenizer = own_tokenizer if own_tokenizer is not None else tokenizer
    check_vocabulary(model, tokenizer, name, section(cfg, "tokenizer").get("name"), new_run)
    return model, tokenizer


def model_vocab_size(model: Any) -> int | None:
    """How many token ids the model's input embedding has (None when it cannot tell)."""
    embeddings = getattr(model, "get_input_embeddings", None)
    if callable(embeddings):
        try:
            size = getattr(embeddings(), "num_embeddings", None)
        except (AttributeError, NotImplementedError):
            size = None
        if isinstance(size, int):
            return size
    for owner in (getattr(model, "config", None), model):
        size = getattr(owner, "vocab_size", None)
        if isinstance(size, int):
            return size
    return None


def check_vocabulary(model: Any, tokenizer: Any, model_name: str, tokenizer_name: Any,
                     new_run: bool = True) -> None:
    """A tokenizer with more ids than the model is an error before a new run starts (a warning when a
    finished run is loaded: it trained, so its text never used those ids); fewer, a warning."""
    ids, size = model_vocab_size(model), tokenizer_vocab(tokenizer)
    if ids is None or size is None or ids == size:
        return  # a tokenizer without vocab_size is reported where it is used
    pair = (f"model {model_name!r} has {ids} token ids and tokenizer {tokenizer_name or type(tokenizer).__name__!r}"
            f" {size}")
    own = "use the model's own tokenizer (tokenizer=offline/gpt2 with model=offline/gpt2, say)"
    import warnings

    from codex_ml.training.errors import VocabularyWarning

    if ids < size:
        past = f"{pair}: the tokenizer's ids from {ids} up would index past the model's embedding"
        if not new_run:
            warnings.warn(f"{past}; text that needs them cannot be scored.", VocabularyWarning, stacklevel=2)
            return
        raise TrainingConfigError(f"{past}. Fix: {own}, or size a model trained from scratch to the "
                                  "tokenizer (model.vocab_size=tokenizer).", key="tokenizer.name")
    warnings.warn(f"{pair}: the model's other {ids - size} ids are never trained and never sampled. If that "
                  f"is not what you meant, {own}.", VocabularyWarning, stacklevel=2)


def build_records(cfg: Mapping[str, Any]) -> Any:
    """``dataset_loader.name`` with ``path`` and ``kwargs``: an iterable of text records."""
    part = section(cfg, "dataset_loader")
    name = _required_name(part, "dataset_loader")
    kwargs = own_kwargs(part, name)
    if part.get("path") is not None:
        kwargs["path"] = part["path"]
    return create(_registries().data_loader_registry, name, kwargs, "dataset_loader")


def build_metrics(cfg: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
    """``{key: (metric callable, input kind)}`` from the ``metrics`` section."""
    metrics: dict[str, tuple[Any, str]] = {}
    for key, spec in section(cfg, "metrics").items():
        if spec is None:  # metrics.token_accuracy=null switches one off
            continue
        if not isinstance(spec, Mapping):
            raise TrainingConfigError(f"metrics.{key} must be a mapping with name, inputs and "
                                      f"kwargs, found {spec!r}.")
        name = _required_name(spec, f"metrics.{key}")
        fn = create(_registries().metric_registry, name, _kwargs(spec), f"metrics.{key}.kwargs")
        metrics[key] = (fn, str(spec.get("inputs", "token_ids")))
    return metrics


def build_optional(cfg: Mapping[str, Any], key: str) -> Any:
    """The reward model or RL agent named by ``<key>.name``, or ``None`` when unset."""
    part = section(cfg, key)
    name = part.get("name")
    if not name:
        return None
    registry = {"reward_model": "reward_model_registry", "rl_agent": "rl_agent_registry"}[key]
    kwargs = _kwargs(part)
    if part.get("path") is not None:
        kwargs["path"] = part["path"]
    return create(getattr(_registries(), registry), str(name), kwargs, f"{key}.kwargs")
