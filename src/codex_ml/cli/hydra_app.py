"""``codex-ml train|evaluate``: compose the Hydra config, run the job, explain mistakes.

A thin main around :func:`codex_ml.training.jobs.train` and
:func:`codex_ml.training.evaluate.evaluate`. Hydra's compose API is used (not
``@hydra.main``) so that the run directory is the caller's choice (``./runs``
by default, not Hydra's ``outputs/``), the working directory is left alone,
and every error becomes one paragraph with a suggestion:

* exit 0: done;
* exit 1: a config mistake (unknown group option, unknown key, unknown
  component, missing file) or a failed run, explained without a traceback;
* exit 2: a usage error (unknown flag, malformed override).

Accepted arguments, besides Hydra overrides (``key=value``, ``+key=value``,
``~key``, ``group=option``): ``-cn/--config-name NAME``, ``-cd/--config-dir
DIR`` (your own configs, searched before the packaged ones), ``--cfg`` (print
the composed config and stop), ``-h/--help``, and the seed's bare
``group/option`` form (``metrics/offline/weighted_accuracy``), which is
translated to ``group=option``.
"""
from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMMANDS = ("train", "evaluate")
CONFIG_MODULE = "codex_ml.configs"
USAGE = ("usage: codex-ml {train,evaluate} [-cn NAME] [-cd DIR] [--cfg] [-h] "
         "[OVERRIDE ...]\n  OVERRIDE: key=value | +key=value | ~key | group=option | group/option")


class UsageError(Exception):
    """The command line itself is malformed (exit 2)."""


class ConfigMistake(Exception):
    """The command line is well formed but names something that does not exist (exit 1)."""


@dataclass
class Invocation:
    command: str
    config_name: str = "config"
    config_dir: str | None = None
    print_config: bool = False
    help: bool = False
    overrides: list[str] = field(default_factory=list)


_VALUE_FLAGS = {"-cn": "config_name", "--config-name": "config_name",
                "-cd": "config_dir", "--config-dir": "config_dir"}


def parse(command: str, argv: list[str]) -> Invocation:
    """Split flags from overrides; anything flag-like we do not know is a usage error."""
    inv = Invocation(command)
    args = list(argv)
    while args:
        arg = args.pop(0)
        flag, eq, inline = arg.partition("=")
        if flag in _VALUE_FLAGS:
            if not eq and not args:
                raise UsageError(f"{flag} needs a value, e.g. {flag} config")
            setattr(inv, _VALUE_FLAGS[flag], inline if eq else args.pop(0))
        elif arg in ("-h", "--help"):
            inv.help = True
        elif arg == "--cfg":
            inv.print_config = True
            if args and args[0] in ("job", "all"):  # Hydra's spelling: --cfg job
                args.pop(0)
        elif arg.startswith("-"):
            raise UsageError(f"unknown option {arg!r}")
        else:
            inv.overrides.append(arg)
    inv.config_name = inv.config_name.removesuffix(".yaml")
    return inv


class Composer:
    """Hydra's compose API over the packaged configs, behind ``--config-dir`` if given."""

    def __init__(self, config_dir: str | None) -> None:
        from hydra import initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra

        import codex_ml.configs

        self.user_dir = Path(_config_dir(config_dir)) if config_dir is not None else None
        packaged = Path(codex_ml.configs.__file__).parent
        # Where config files live, in search order (also for group/option lookups).
        self.roots = [p for p in (self.user_dir, packaged) if p is not None]
        GlobalHydra.instance().clear()
        self._ctx = initialize_config_dir(config_dir=str(self.roots[0]), version_base="1.3")
        self._ctx.__enter__()

    def close(self) -> None:
        self._ctx.__exit__(None, None, None)

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
        from hydra import compose

        extra = [f"hydra.searchpath=[pkg://{CONFIG_MODULE}]"] if self.user_dir else []
        return compose(config_name=name, overrides=extra + overrides)


def _config_dir(path: str) -> str:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise ConfigMistake(f"--config-dir {path}: {folder} is not a folder. Pass the folder that "
                            "holds your config YAML files.")
    return str(folder)


def translate(composer: Composer, arg: str) -> str:
    """``metrics/offline/weighted_accuracy`` -> ``metrics=offline/weighted_accuracy``."""
    if "=" in arg or arg.startswith(("~", "+")):
        return arg
    parts = arg.strip("/").removesuffix(".yaml").split("/")
    for cut in range(1, len(parts)):
        group, option = "/".join(parts[:cut]), "/".join(parts[cut:])
        if composer.option_exists(group, option):
            return f"{group}={option}"
    if len(parts) > 1 and composer.group_exists(parts[0]):
        raise unknown_option(parts[0], "/".join(parts[1:]), composer.group_options(parts[0]))
    raise UsageError(f"{arg!r} is neither an override (key=value) nor a config group option "
                     "(group/option, e.g. metrics/offline/weighted_accuracy)")


def compose(inv: Invocation) -> Any:
    """The composed config; a group override missing from the defaults list is appended."""
    from hydra.errors import ConfigCompositionException

    composer = Composer(inv.config_dir)
    try:
        overrides = [translate(composer, a) for a in inv.overrides]
        while True:
            try:
                return composer.compose(inv.config_name, overrides)
            except ConfigCompositionException as exc:
                fixed = append_missing_group(exc, overrides)
                if fixed is None:
                    raise
                overrides = fixed
    except Exception as exc:
        raise explain_hydra(exc, composer, inv) from exc
    finally:
        composer.close()


# ------------------------------------------------------------------ errors
def _close(word: str, choices: list[str]) -> str:
    from codex_ml.registry._search import did_you_mean

    return did_you_mean(word, choices)


def unknown_option(group: str, option: str, options: list[str]) -> ConfigMistake:
    return ConfigMistake(
        f"config group {group!r} has no option {option!r}.{_close(option, options)} "
        f"Available: {', '.join(options) or '(none)'}. Fix: {group}=<one of those>.")


def append_missing_group(exc: Exception, overrides: list[str]) -> list[str] | None:
    """``group=option`` for a group the primary config lacks becomes ``+group=option``."""
    found = re.search(r"Could not override '([^']+)'\.\s*No match in the defaults list", str(exc))
    if not found:
        return None
    key = found.group(1)
    fixed = ["+" + o if o.split("=", 1)[0] == key else o for o in overrides]
    return fixed if fixed != overrides else None


def _parent_keys(composer: Composer, inv: Invocation, full_key: str) -> list[str]:
    """Keys beside ``full_key`` in the config composed without the offending override."""
    def offending(override: str) -> bool:
        key = override.split("=", 1)[0].lstrip("+~")
        return key == full_key or key.startswith(full_key + ".")

    rest = [o for o in inv.overrides if not offending(o)]
    try:
        node: Any = composer.compose(inv.config_name, [translate(composer, o) for o in rest])
        for part in full_key.split(".")[:-1]:
            node = node[part]
        return [str(k) for k in node]
    except Exception:  # noqa: BLE001 - a second mistake elsewhere: no suggestion, no new error
        return []


def _unknown_key(composer: Composer, inv: Invocation, full_key: str) -> ConfigMistake:
    parent, _, leaf = full_key.rpartition(".")
    keys = _parent_keys(composer, inv, full_key)
    near = _close(leaf, keys)
    where = f"in {parent!r}" if parent else "at the top level"
    return ConfigMistake(
        f"unknown config key {full_key!r}: there is no {leaf!r} {where}.{near}"
        + (f" Keys there: {', '.join(keys)}." if keys else "")
        + f" Fix the spelling, or write +{full_key}=... to add a new key on purpose.")


def explain_hydra(exc: Exception, composer: Composer, inv: Invocation) -> Exception:
    """A Hydra/OmegaConf failure as one paragraph with a suggestion."""
    from hydra.errors import MissingConfigException, OverrideParseException

    if isinstance(exc, (ConfigMistake, UsageError)):
        return exc
    if isinstance(exc, OverrideParseException):
        return UsageError(f"cannot parse override: {str(exc).splitlines()[0]}")
    if isinstance(exc, MissingConfigException):
        missing = exc.missing_cfg_file or ""
        if missing == inv.config_name:
            names = ["config", "offline/catalogue", "offline/tiny_fixtures"]
            return ConfigMistake(f"no primary config named {missing!r} (-cn).{_close(missing, names)}"
                                 f" Packaged configs: {', '.join(names)}; -cd DIR adds your own.")
        group, _, option = missing.partition("/")
        return unknown_option(group, option, composer.group_options(group))
    named = re.search(r"Could not override '([^']+)'", str(exc))
    full_key = getattr(exc.__cause__, "full_key", None) or (named.group(1) if named else None)
    if full_key and (named or "not in struct" in str(exc.__cause__)):
        return _unknown_key(composer, inv, str(full_key))
    return ConfigMistake(" ".join(str(exc).split()))


def report(command: str, exc: BaseException) -> None:
    """Print ``exc`` as one paragraph on stderr (the traceback only when asked for)."""
    if os.environ.get("CODEX_ML_TRACEBACK"):
        traceback.print_exception(exc)
    if isinstance(exc, _known_errors()):
        text = str(exc)
    else:
        frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (raised at {frame[0].filename}:{frame[0].lineno})" if frame else ""
        text = (f"{type(exc).__name__}: {exc}{where}. This is not a mistake codex-ml recognises; "
                "set CODEX_ML_TRACEBACK=1 to see the traceback, and report it if it is a bug.")
    print(f"codex-ml {command}: error: {text}", file=sys.stderr)


def _known_errors() -> tuple[type[BaseException], ...]:
    from codex_ml.registry import RegistryError
    from codex_ml.training.errors import CheckpointError, TrainingConfigError

    return (ConfigMistake, RegistryError, TrainingConfigError, CheckpointError,
            FileNotFoundError, NotADirectoryError, PermissionError, ValueError)


def help_text(inv: Invocation) -> str:
    """Usage, the config groups with their options, and examples."""
    composer = Composer(inv.config_dir)
    try:
        groups = [g for g in ("model", "tokenizer", "data", "training", "metrics", "interfaces")
                  if composer.group_exists(g)]
        lines = [USAGE, "", f"{inv.command}: config groups (group=option):"]
        lines += [f"  {g:<11} {', '.join(composer.group_options(g))}" for g in groups]
    finally:
        composer.close()
    lines += ["", "primary configs (-cn): config, offline/catalogue, offline/tiny_fixtures", "",
              "examples:", "  codex-ml train training.max_steps=50 training.run_name=demo",
              "  codex-ml train -cn offline/tiny_fixtures",
              "  codex-ml evaluate run_dir=runs/demo metrics/offline/weighted_accuracy",
              "  torchrun --nproc_per_node=2 -m codex_ml.cli train training.device=cpu"]
    return "\n".join(lines)


def _prepare(cfg: Any) -> None:
    """Keep Hugging Face libraries offline before anything imports them."""
    if (cfg.get("interfaces") or {}).get("offline", True):
        for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            os.environ[flag] = "1"


def _train(cfg: Any) -> int:
    from codex_ml.training.jobs import train

    summary = train(cfg)
    if "rank" not in summary:  # only rank 0 reports
        run_dir = summary["run_dir"]
        print(f"wrote {run_dir}: config.yaml, metrics.jsonl, summary.json, checkpoints/\n"
              f"evaluate it with: codex-ml evaluate run_dir={run_dir}", flush=True)
    return 0


def _evaluate(cfg: Any) -> int:
    from codex_ml.training.evaluate import evaluate
    from codex_ml.training.progress import print_table

    report = evaluate(cfg)
    rows: dict[str, Any] = {"model": report["model"], "weights": report["weights"],
                            **report["metrics"]}
    for key in ("reward_model", "rl_agent"):
        if key in report:
            rows[f"{key} ({report[key]['plugin']})"] = report[key].get(
                "mean", report[key].get("mean_reward", report[key].get("actions")))
    print_table("codex-ml evaluate", rows)
    print(f"wrote {report['output']}", flush=True)
    return 0


JOBS: dict[str, Callable[[Any], int]] = {"train": _train, "evaluate": _evaluate}


def run(command: str, argv: list[str]) -> int:
    """Run ``codex-ml <command> <argv...>``; return the exit status (0, 1 or 2)."""
    try:
        if command not in COMMANDS:
            raise UsageError(f"unknown command {command!r}; choose one of {', '.join(COMMANDS)}")
        inv = parse(command, argv)
        if inv.help:
            print(help_text(inv))
            return 0
        cfg = compose(inv)
        if inv.print_config:
            from omegaconf import OmegaConf

            print(OmegaConf.to_yaml(cfg), end="")
            return 0
        _prepare(cfg)
        return JOBS[command](cfg)
    except UsageError as exc:
        print(f"{USAGE}\ncodex-ml {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"codex-ml {command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one paragraph, never a traceback (see report)
        report(command, exc)
        return 1
