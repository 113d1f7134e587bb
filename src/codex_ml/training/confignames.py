"""One name per concept in the run config: the canonical keys and their other spellings.

Every config section that picks a registered component has the same shape:
``name`` (the registered name), ``path`` (a file for it, optional) and
``kwargs`` (its arguments). The reward model, the RL agent and the trainer
used other words (docs/guides/training.md, "One name per concept"):

==========================  =====================  ===================================
other spelling              canonical key          status
==========================  =====================  ===================================
``reward_model.plugin``     ``reward_model.name``  kept for good, silent (documented
``rl_agent.plugin``         ``rl_agent.name``      opt-out keys users have in scripts)
``training.trainer``        ``training.name``      deprecated: one warning
``training.config_path``    ``training.path``      deprecated: one warning
``training.trainer_kwargs`` ``training.kwargs``    deprecated: one warning
==========================  =====================  ===================================

A spelling that is set moves to its canonical key (a deprecated one with one
:class:`DeprecatedConfigKey` warning); the same key given together with its
canonical key on the command line, with a different value, is an error naming
both. The other spellings stay in the packaged YAML (``null``) so Hydra accepts them.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from codex_ml.training.errors import DeprecatedConfigKey, TrainingConfigError

# section -> ((other key, canonical key), ...)
ALIASES: dict[str, tuple[tuple[str, str], ...]] = {
    "reward_model": (("plugin", "name"),),
    "rl_agent": (("plugin", "name"),),
    "training": (("trainer", "name"), ("config_path", "path"), ("trainer_kwargs", "kwargs")),
}
# Spellings kept for good: moved to the canonical key without a warning.
SYNONYMS = frozenset({"reward_model.plugin", "rl_agent.plugin"})


def override_keys(overrides: Iterable[str]) -> set[str]:
    """The dotted keys a list of Hydra overrides sets (``+``/``++``/``~`` prefixes dropped)."""
    return {o.split("=", 1)[0].lstrip("+~") for o in overrides}


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, Mapping) and not value)


def _given(key: str, keys: set[str]) -> bool:
    return any(k == key or k.startswith(key + ".") for k in keys)


def _move(part: dict[str, Any], section: str, old: str, new: str, keys: set[str],
          warn: bool) -> None:
    value = part.pop(old)
    if _unset(value):
        return
    old_key, new_key = f"{section}.{old}", f"{section}.{new}"
    if _given(new_key, keys) and part.get(new) != value:
        raise TrainingConfigError(
            f"{old_key}={value!r} and {new_key}={part.get(new)!r} are both set, and {old_key} is "
            f"another spelling of {new_key}. Keep one: {new_key}={value!r} (or drop {old_key}).",
            key=old_key)
    if warn and old_key not in SYNONYMS:
        warnings.warn(f"{old_key} is the old spelling of {new_key}; it still works but will go "
                      f"away. Write {new_key}={value!r}.", DeprecatedConfigKey, stacklevel=4)
    part[new] = value


def canonical_names(cfg: dict[str, Any], overrides: Iterable[str] = (), *,
                    warn: bool = True) -> dict[str, Any]:
    """``cfg`` (a plain dict, changed in place) with every old key moved to its canonical key.

    ``overrides``: the command line's overrides; only a canonical key given there
    can conflict with its old spelling (the packaged presets set canonical keys
    that an old spelling on the command line must still override). ``warn=False``
    for configs read back from a run folder written before the rename.
    """
    keys = override_keys(overrides)
    for section, pairs in ALIASES.items():
        part = cfg.get(section)
        if not isinstance(part, dict):
            continue
        for old, new in pairs:
            if old in part:
                _move(part, section, old, new, keys, warn)
    return cfg
