"""A plugin whose dependency is not installed: it fails at import, as such plugins do."""

from __future__ import annotations

import fancy_tokenizer_lib  # not installed: this plugin is broken on purpose

from codex_ml.registry import register_tokenizer

register_tokenizer("fancy", fancy_tokenizer_lib.Tokenizer)
