"""Hydra configs of codex_ml (package data, found with ``pkg://codex_ml.configs``).

``config.yaml`` is the default run; the groups ``model/``, ``tokenizer/``,
``data/``, ``training/``, ``metrics/`` and ``interfaces/`` hold the options
(``offline/`` ones use the offline catalogue), and ``offline/catalogue.yaml``
and ``offline/tiny_fixtures.yaml`` are presets for ``-cn``.
"""
