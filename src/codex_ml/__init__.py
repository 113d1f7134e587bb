"""codex_ml: the plugin and registry layer of an ML training stack.

Importing the package registers the built-in offline catalogue by dotted
path only (nothing heavy is imported until a component is asked for).
``codex_ml.load_run(run_dir)`` opens a trained run (imported on first use).
"""

from __future__ import annotations

__version__ = "0.1.0"

from codex_ml.catalogue import install as _install_catalogue  # noqa: E402

_install_catalogue()

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
