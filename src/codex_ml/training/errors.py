"""Errors the training stack raises for things a user can fix.

The CLI prints these as one paragraph (no traceback) and exits 1, so every
message names the thing, where it looked and what to do.
"""
from __future__ import annotations

from collections.abc import Iterable


class TrainingConfigError(ValueError):
    """A training or evaluation setting is wrong: bad key, bad value, wrong shape."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key  # the setting at fault, when there is one


class DeprecatedConfigKey(FutureWarning):
    """An old spelling of a config key was used (``reward_model.plugin`` for ``reward_model.name``).

    A ``FutureWarning``: Python's category for deprecations aimed at the people
    running a program, shown by default, once per key and value.
    """


class VocabularyWarning(UserWarning):
    """The model has more token ids than the tokenizer: the extra ones are never trained or sampled."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete or does not fit the model."""


class RunWriteError(OSError):
    """A run folder file could not be written (a full disk, a read-only folder)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class ArtefactChangedError(ValueError):
    """A file a run was trained on changed or moved since (evaluate refuses it)."""

    def __init__(self, message: str, changed: list[str]) -> None:
        super().__init__(message)
        self.changed = changed


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest choices, or an empty string."""
    from codex_ml.registry._search import did_you_mean as suggest

    return suggest(word, choices)
