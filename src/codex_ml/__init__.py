"""codex_ml: the plugin and registry layer of an ML training stack.

Importing the package registers the built-in offline catalogue by dotted
path only (nothing heavy is imported until a component is asked for).
"""

from __future__ import annotations

__version__ = "0.1.0"

from codex_ml.catalogue import install as _install_catalogue  # noqa: E402

_install_catalogue()
