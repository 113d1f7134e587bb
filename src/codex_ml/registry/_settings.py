"""Every environment variable the registries read, parsed in one place.

``current()`` builds a ``Settings`` from ``os.environ`` at first use, and
again when one of the variables read here has changed since (a test's
``monkeypatch.setenv``) or after ``reset()`` (called by ``reset_discovery()``
and the isolated test world); it is passed to whoever acts on it. Unknown ``CODEX_ML_*`` variables
(typos) and values that cannot take effect are warned about once. Explicit
arguments (``strict=``, ``force=``) always win over these settings. The
variables are listed in docs/guides/registries.md.
"""

from __future__ import annotations

import _thread
import os

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Mapping

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def switch(value: str) -> bool | None:
    """An on/off variable's value: True, False, or None when it is neither (or empty)."""
    text = value.strip().lower()
    return True if text in TRUE else False if text in FALSE else None

# Read here: the registry core's own switches.
_OWN = (
    "CODEX_ML_PLUGIN_PATH", "CODEX_ML_PLUGINS_STRICT", "CODEX_ML_PLUGINS_ALLOW", "CODEX_ML_PLUGINS_DISABLE",
    "CODEX_ML_REGISTRY_AUTO_REFRESH", "CODEX_ML_CACHE", "CODEX_ML_CACHE_DIR", "CODEX_MODEL_REGISTRY_DISABLE",
)
# Read by the catalogue and the CLI (documented with them); known, so never "unknown".
_ELSEWHERE = (
    "CODEX_ML_OFFLINE_MODELS_DIR", "CODEX_ML_OFFLINE_DATASETS_DIR", "CODEX_ML_OFFLINE_CONFIGS_DIR",
    "CODEX_ML_OFFLINE_RL_DIR", "CODEX_ML_OFFLINE_METRICS_DIR", "CODEX_ML_TINY_CORPUS_PATH",
    "CODEX_ML_TINY_TOKENIZER_PATH", "CODEX_ML_TINY_SEQUENCE_PATH", "CODEX_ML_TINYLLAMA_PATH",
    "CODEX_ML_TINYLLAMA_TOKENIZER_PATH", "CODEX_ML_WEIGHTED_ACCURACY_PATH", "CODEX_ML_LENGTH_REWARD_PATH",
    "CODEX_ML_SCRIPTED_AGENT_PATH", "CODEX_ML_FUNCTIONAL_TRAINER_CONFIG", "CODEX_ML_DEBUG",
    "CODEX_ML_TRACEBACK", "CODEX_ML_PLAIN", "CODEX_ML_CLI_FASTPATH",
)
KNOWN = frozenset(_OWN + _ELSEWHERE)
_KNOWN_PREFIXES = ("CODEX_ML_GPT",)  # a family of per-model variables of the catalogue


class SettingsWarning(UserWarning):
    """An environment variable of codex_ml is unknown or cannot take effect."""


class Settings:
    """The parsed environment: one attribute per variable (see the module docstring)."""

    __slots__ = ("plugin_path", "strict", "allow", "disable", "auto_refresh", "cache", "cache_dir",
                 "model_registry_disabled", "problems", "stamp")

    def __init__(self, environ: Mapping[str, str], stamp: tuple[object, ...] = ()) -> None:
        self.stamp = stamp  # the variables' values it was built from (see ``current``)
        self.problems: list[str] = []
        raw = environ.get("CODEX_ML_PLUGIN_PATH")
        self.plugin_path: list[str] | None = (
            None if raw is None else [p for p in raw.split(os.pathsep) if p.strip()])
        self.strict = self._flag(environ, "CODEX_ML_PLUGINS_STRICT", False)
        self.allow = _rules(environ.get("CODEX_ML_PLUGINS_ALLOW", ""))
        self.disable = _rules(environ.get("CODEX_ML_PLUGINS_DISABLE", ""))
        self.auto_refresh = self._flag(environ, "CODEX_ML_REGISTRY_AUTO_REFRESH", False)
        self.cache = self._flag(environ, "CODEX_ML_CACHE", True)
        self.cache_dir = environ.get("CODEX_ML_CACHE_DIR") or ""
        self.model_registry_disabled = self._flag(environ, "CODEX_MODEL_REGISTRY_DISABLE", False)
        self._check_unknown(environ)
        if self.cache_dir and not self.cache:
            self.problems.append("CODEX_ML_CACHE_DIR has no effect while CODEX_ML_CACHE=0 turns the cache off")

    def _flag(self, environ: Mapping[str, str], var: str, default: bool) -> bool:
        value = environ.get(var)
        if value is None or not value.strip():
            return default
        on = switch(value)
        if on is not None:
            return on
        self.problems.append(f"{var}={value!r} is not a switch (use 1/0, true/false, yes/no or on/off); "
                             f"using the default ({'on' if default else 'off'})")
        return default

    def _check_unknown(self, environ: Mapping[str, str]) -> None:
        for var in sorted(environ):
            if not var.startswith("CODEX_ML_") or var in KNOWN or var.startswith(_KNOWN_PREFIXES):
                continue
            from ._search import close_matches

            close = close_matches(var, sorted(KNOWN), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            self.problems.append(f"{var} is not a variable codex_ml reads, so it has no effect{hint}")

    def warn(self) -> None:
        """Warn once per problem (a settings object is built once per reset)."""
        for problem in self.problems:
            import warnings  # only when there is something to say

            warnings.warn(f"codex_ml settings: {problem}", SettingsWarning, stacklevel=4)


def _rules(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.replace(";", ",").split(",") if p.strip())


def plugin_roots(settings: Settings) -> list[str]:
    """The plugin folders to import from: CODEX_ML_PLUGIN_PATH, else ./plugins if it exists."""
    if settings.plugin_path is not None:
        return list(settings.plugin_path)
    return ["plugins"] if os.path.isdir("plugins") else []


_current: Settings | None = None
_building = _thread.allocate_lock()


class _Choice(_thread._local):
    chosen: Settings | None = None  # the innermost ``overridden`` block of this thread (a class default: no miss)


_thread_choice = _Choice()


def _stamp() -> tuple[object, ...]:
    """The values of the variables read here, cheaply: ``current()`` compares them on every call."""
    data = getattr(os.environ, "_data", None)  # the raw table: no decoding of every key
    if isinstance(data, dict) and os.name == "posix":
        return tuple(map(data.get, _OWN_BYTES))
    return tuple(map(os.environ.get, _OWN))


_OWN_BYTES = tuple(os.fsencode(var) for var in _OWN)


def current() -> Settings:
    """This thread's ``overridden`` settings, else the process's, built from ``os.environ`` when it changed."""
    global _current
    chosen = _thread_choice.chosen
    if chosen is not None:
        return chosen
    stamp = _stamp()
    settings = _current
    if settings is None or settings.stamp != stamp:
        with _building:  # built (and its warnings given) once, also when threads start together
            settings = _current
            if settings is None or settings.stamp != stamp:
                settings = _current = Settings(os.environ, stamp)
                settings.warn()
    return settings


def reset() -> None:
    """Read the environment again at the next ``current()``."""
    global _current
    _current = None


class overridden:  # noqa: N801 - used like a function: ``with overridden(strict=False): ...``
    """Settings with some values chosen by the caller while the block runs (a command's own choice).

    The environment is not touched: the caller's choice is passed down as
    settings, to this thread only (another thread's registries, and its own
    blocks, are not the caller's to change).
    """

    def __init__(self, **values: object) -> None:
        self.values = values
        self.saved: Settings | None = None

    def __enter__(self) -> Settings:
        self.saved = _thread_choice.chosen
        base = current()
        chosen = Settings.__new__(Settings)
        for slot in Settings.__slots__:
            setattr(chosen, slot, self.values.get(slot, getattr(base, slot)))
        _thread_choice.chosen = chosen
        return chosen

    def __exit__(self, *exc: object) -> None:
        _thread_choice.chosen = self.saved


def saved() -> tuple[Settings | None, Settings | None]:
    """The process's settings and this thread's ``overridden`` choice (the isolated test world keeps them)."""
    return _current, _thread_choice.chosen


def restore(state: tuple[Settings | None, Settings | None]) -> None:
    global _current
    _current, _thread_choice.chosen = state
