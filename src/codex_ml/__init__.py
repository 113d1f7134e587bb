"""codex_ml: the plugin and registry layer of an ML training stack.

The built-in registries hold the offline catalogue, by dotted path only,
from the moment they are first used (nothing heavy is imported until a
component is asked for). ``codex_ml.load_run(run_dir)`` opens a trained run
(imported on first use).
"""

from __future__ import annotations

__version__ = "0.1.0"

# ``import codex_ml`` then ``codex_ml.registry.get_model(...)`` works as it always did; the
# registry package itself imports nothing until one of its names is used.
from codex_ml import registry as registry  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codex_ml.training.runs import load_run


def __getattr__(name: str) -> object:
    """``codex_ml.load_run`` is imported on first use, so ``import codex_ml`` stays cheap."""
    if name == "load_run":
        from codex_ml.training.runs import load_run

        return load_run
    raise AttributeError(f"module 'codex_ml' has no attribute {name!r}")


__all__ = ["__version__", "load_run"]
