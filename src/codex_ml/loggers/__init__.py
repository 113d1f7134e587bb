"""Training loggers: plugins of the ``loggers`` registry (entry-point group ``codex_ml.loggers``).

A run config chooses them with ``loggers=[jsonl,tensorboard]`` (``jsonl``
alone by default). A logger is built by its factory as ``factory(run_dir,
**kwargs)`` (``loggers=[{name: x, kwargs: {...}}]`` passes keyword
arguments) and then receives, on the main process only:

* ``start(config, step)``: the resolved run config, and the step training
  starts from (0, or the checkpoint step when resuming);
* ``scalars(step, split, values)``: ``split`` is ``train`` or ``val``,
  ``values`` maps names (``loss``, ``lr``, ``perplexity`` ...) to floats;
* ``text(step, tag, text)``: generated samples at the end of training;
* ``close()``.

Subclass :class:`Logger` (every method is a no-op there) and override what
you need. An unknown logger name stops the run before it starts; a known
logger that fails to load or raises is reported once and dropped; training
goes on (see :mod:`codex_ml.loggers.hub`).
"""
from __future__ import annotations

from codex_ml.loggers.base import Logger

__all__ = ["Logger"]
