"""Hydra's failures as one paragraph with a suggestion (used by :mod:`codex_ml.cli.hydra_app`).

Composition errors reach us as Hydra's own exceptions; this module looks the
offending name up in the config folders (the user's ``-cd``/``-cp`` folder
and the packaged configs) to suggest the closest option or key. It also
translates the bare ``group/option`` form (``metrics/offline/weighted_accuracy``)
into Hydra's ``group=option``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from codex_ml.registry._search import did_you_mean

PACKAGED = "pkg://codex_ml.configs"
PRIMARY_CONFIGS = ["config", "offline/catalogue", "offline/tiny_fixtures"]


class UsageError(Exception):
    """The command line itself is malformed (exit 2)."""


class ConfigMistake(Exception):
    """The command line is well formed but names something that does not exist (exit 1)."""


def packaged_dir() -> Path:
    import codex_ml.configs

    return Path(codex_ml.configs.__file__).parent


class Folders:
    """The config folders in search order: ``-cd``, ``-cp`` (when a folder), then the packaged ones."""

    def __init__(self, config_dir: str | None, config_path: str | None) -> None:
        given = [p for p in (config_dir, config_path) if p and not p.startswith("pkg://")]
        self.roots = [Path(p).expanduser().resolve() for p in given] + [packaged_dir()]
        self.config_dir = config_dir

    def group_exists(self, group: str) -> bool:
        return any((root / group).is_dir() for root in self.roots)

    def option_exists(self, group: str, option: str) -> bool:
        return any((root / group / f"{option}.yaml").is_file() for root in self.roots)

    def group_options(self, group: str) -> list[str]:
        """Every option of a config group, nested ones as ``offline/gpt2``."""
        found = {p.relative_to(root / group).with_suffix("").as_posix()
                 for root in self.roots if (root / group).is_dir()
                 for p in (root / group).rglob("*.yaml")}
        return sorted(found)

    def compose(self, name: str, overrides: list[str]) -> Any:
        """The config ``name`` composed with Hydra's compose API over these folders."""
        from hydra import compose, initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra

        GlobalHydra.instance().clear()
        extra = [f"hydra.searchpath=[{PACKAGED}]"] if len(self.roots) > 1 else []
        with initialize_config_dir(config_dir=str(self.roots[0]), version_base="1.3"):
            return compose(config_name=name, overrides=extra + overrides)


def translate(folders: Folders, arg: str) -> str:
    """``metrics/offline/weighted_accuracy`` -> ``metrics=offline/weighted_accuracy``."""
    if "=" in arg or arg.startswith(("~", "+")):
        return arg
    parts = arg.strip("/").removesuffix(".yaml").split("/")
    for cut in range(1, len(parts)):
        group, option = "/".join(parts[:cut]), "/".join(parts[cut:])
        if folders.option_exists(group, option):
            return f"{group}={option}"
    if len(parts) > 1 and folders.group_exists(parts[0]):
        raise unknown_option(parts[0], "/".join(parts[1:]), folders.group_options(parts[0]))
    raise UsageError(f"{arg!r} is neither an override (key=value) nor a config group option "
                     "(group/option, e.g. metrics/offline/weighted_accuracy)")


def unknown_option(group: str, option: str, options: list[str]) -> ConfigMistake:
    return ConfigMistake(
        f"config group {group!r} has no option {option!r}.{did_you_mean(option, options)} "
        f"Available: {', '.join(options) or '(none)'}. Fix: {group}=<one of those>.")


def append_missing_group(exc: Exception, overrides: list[str]) -> list[str] | None:
    """``group=option`` for a group the primary config lacks becomes ``+group=option``."""
    found = re.search(r"Could not override '([^']+)'\.\s*No match in the defaults list", str(exc))
    if not found:
        return None
    key = found.group(1)
    fixed = ["+" + o if o.split("=", 1)[0] == key else o for o in overrides]
    return fixed if fixed != overrides else None


def _parent_keys(folders: Folders, name: str, overrides: list[str], full_key: str) -> list[str]:
    """Keys beside ``full_key`` in the config composed without the offending override."""
    def offending(override: str) -> bool:
        key = override.split("=", 1)[0].lstrip("+~")
        return key == full_key or key.startswith(full_key + ".")

    try:
        node: Any = folders.compose(name, [o for o in overrides if not offending(o)])
        for part in full_key.split(".")[:-1]:
            node = node[part]
        return [str(k) for k in node]
    except Exception:  # noqa: BLE001 - a second mistake elsewhere: no suggestion, no new error
        return []


def unknown_key(folders: Folders, name: str, overrides: list[str], full_key: str) -> ConfigMistake:
    parent, _, leaf = full_key.rpartition(".")
    keys = _parent_keys(folders, name, overrides, full_key)
    where = f"in {parent!r}" if parent else "at the top level"
    return ConfigMistake(
        f"unknown config key {full_key!r}: there is no {leaf!r} {where}.{did_you_mean(leaf, keys)}"
        + (f" Keys there: {', '.join(keys)}." if keys else "")
        + f" Fix the spelling, or write +{full_key}=... to add a new key on purpose.")


def _known_cause(exc: BaseException, known: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first error of ours in ``exc``'s cause chain (a resolver's error inside Hydra's)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, known):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _resolver_message(exc: BaseException, known: tuple[type[BaseException], ...]) -> str | None:
    """Our own error's message, when OmegaConf wrapped it without its cause (a resolver of
    ``hydra.run.dir`` raised it): the wrapper's "X raised while resolving interpolation" and
    "full_key: ..." are OmegaConf's words, not the user's problem."""
    text = " ".join(str(exc).split())
    found = re.fullmatch(r"(\w+) raised while resolving interpolation: (.*?)"
                         r"(?: full_key: \S+)?(?: reference_type=\S+)?(?: object_type=\S+)?", text)
    if found and found.group(1) in {k.__name__ for k in known}:
        return found.group(2)
    return None


def explain(exc: Exception, folders: Folders, name: str, overrides: list[str],
            known: tuple[type[BaseException], ...]) -> BaseException:
    """A Hydra/OmegaConf failure as one paragraph with a suggestion."""
    from hydra.errors import MissingConfigException, OverrideParseException, SearchPathException

    if isinstance(exc, (ConfigMistake, UsageError)):
        return exc
    if isinstance(exc, OverrideParseException):
        return UsageError(f"cannot parse override: {str(exc).splitlines()[0]}")
    if isinstance(exc, ValueError) and str(exc).startswith("Config group override must be"):
        return UsageError(f"cannot parse override: {exc} (an override is key=value, e.g. model=minilm "
                          "or training.max_steps=3)")
    if isinstance(exc, SearchPathException):
        return ConfigMistake(f"{exc}. -cd/--config-dir needs a folder holding your config YAML "
                             "files (a whole primary config, or only a group option such as "
                             "model/mine.yaml).")
    if isinstance(exc, MissingConfigException):
        missing = exc.missing_cfg_file or ""
        if not missing:  # -cp/--config-path names a folder that is not there
            return ConfigMistake(f"{' '.join(str(exc).split()).rstrip('.')}. Fix: give -cp/--config-path a "
                                 "folder that exists, or use -cd/--config-dir DIR to add your own "
                                 "YAML files to codex_ml's packaged configs.")
        if missing == name:
            return ConfigMistake(f"no primary config named {missing!r} (-cn)."
                                 f"{did_you_mean(missing, PRIMARY_CONFIGS)} Packaged configs: "
                                 f"{', '.join(PRIMARY_CONFIGS)}; -cd DIR adds your own.")
        group, _, option = missing.partition("/")
        return unknown_option(group, option, folders.group_options(group))
    if isinstance(exc, OSError) and exc.filename:
        return ConfigMistake(f"cannot create the folder {exc.filename}: {exc.strerror}. Pick a "
                             "folder you can write: training.output_dir=... (or hydra.run.dir=..., "
                             "hydra.sweep.dir=... for -m).")
    ours = _known_cause(exc, known)
    if ours is not None and ours is not exc:
        return ours
    unwrapped = _resolver_message(exc, known)
    if unwrapped:
        return ConfigMistake(unwrapped)
    named = re.search(r"Could not override '([^']+)'", str(exc))
    full_key = getattr(exc.__cause__, "full_key", None) or (named.group(1) if named else None)
    if full_key and (named or "not in struct" in str(exc.__cause__)):
        return unknown_key(folders, name, overrides, str(full_key))
    return ConfigMistake(" ".join(str(exc).split()))
