"""The loggers of one run, built from ``loggers=[...]``; a failing one never stops training.

A name no registry knows (``loggers=[tensorbord]``) is a config mistake:
:func:`check_loggers` refuses it before the run starts, with the close
matches. A known logger whose plugin does not load (the registry's
``RegistryLoadError``, with the cause and the fix, as for any plugin), whose
factory raises, or whose method raises later is reported once through
``note`` and dropped; the others, and training, go on.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

DEFAULT = ("jsonl",)
Note = Callable[[str], None]


def logger_specs(cfg: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``[(name, kwargs)]`` from ``loggers`` (names, or mappings with name and kwargs)."""
    from codex_ml.training.errors import TrainingConfigError

    value = cfg.get("loggers", list(DEFAULT))
    items = [value] if isinstance(value, (str, Mapping)) else list(value or [])
    specs: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        if isinstance(item, str) and item:
            specs.append((item, {}))
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            specs.append((item["name"], dict(item.get("kwargs") or {})))
        else:
            raise TrainingConfigError(
                f"loggers: {item!r} is not a logger name or a mapping with name (and kwargs); "
                "write loggers=[jsonl,tensorboard] (`codex-ml list loggers` shows them).")
    return specs


def check_loggers(cfg: Mapping[str, Any]) -> None:
    """Every name in ``loggers`` is a registered logger (nothing is loaded to know it)."""
    from codex_ml.registry import UnknownComponentError, logger_registry
    from codex_ml.training.errors import TrainingConfigError

    for name, _ in logger_specs(cfg):
        try:
            logger_registry.entry(name)
        except UnknownComponentError as exc:
            raise TrainingConfigError(
                f"loggers: {exc} The loggers there are: {', '.join(logger_registry.list())} "
                "(`codex-ml list loggers`); or drop the name from loggers=[...] to train "
                "without it.", key="loggers") from None


class LoggerSet:
    """Fans each call out to every live logger; drops one that raises."""

    def __init__(self, note: Note) -> None:
        self.live: dict[str, Any] = {}
        self.failed: dict[str, str] = {}
        self._note = note

    def add(self, name: str, build: Callable[[], Any]) -> None:
        try:
            self.live[name] = build()
        except Exception as exc:  # noqa: BLE001 - a logger plugin never stops training
            self._drop(name, "could not be built", exc)

    def _drop(self, name: str, what: str, exc: BaseException) -> None:
        self.live.pop(name, None)
        self.failed[name] = f"{type(exc).__name__}: {exc}"
        self._note(f"logger {name!r} {what} and is switched off for this run; training goes on. "
                   f"{type(exc).__name__}: {exc}")

    def _call(self, method: str, *args: Any) -> None:
        for name, logger in list(self.live.items()):
            try:
                getattr(logger, method)(*args)
            except Exception as exc:  # noqa: BLE001 - see the module docstring
                self._drop(name, f"raised in {method}()", exc)

    def start(self, config: Mapping[str, Any], step: int) -> None:
        self._call("start", config, step)

    def log(self, record: Mapping[str, Any]) -> None:
        """``{"step", "split", **values}``: the loop's record, as scalars."""
        values = {k: v for k, v in record.items() if k not in ("step", "split")}
        self._call("scalars", int(record["step"]), str(record["split"]), values)

    def text(self, step: int, tag: str, text: str) -> None:
        self._call("text", step, tag, text)

    def finish(self, summary: Mapping[str, Any]) -> None:
        """The final samples as text, then close every logger."""
        samples = (summary.get("evaluation") or {}).get("samples") or []
        if samples:
            lines = [f"- **{s['prompt']}**{s['completion']}" for s in samples]
            self.text(int(summary.get("steps") or 0), "samples", "\n".join(lines))
        self._call("close")


def open_loggers(cfg: Mapping[str, Any], run_dir: Path, start: int, note: Note,
                 main: bool = True) -> LoggerSet:
    """The run's loggers, started (none on ranks other than 0)."""
    from codex_ml.registry import logger_registry

    hub = LoggerSet(note)
    if main:
        for name, kwargs in logger_specs(cfg):
            hub.add(name, functools.partial(logger_registry.create, name, run_dir=run_dir, **kwargs))
        hub.start(cfg, start)
    return hub
