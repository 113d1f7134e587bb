"""codex_ml.registry: one lazy, thread-safe registry per component kind, standard library only.

A ``Registry`` owns a plain ``Table`` of entries (the hot path) and is given
its collaborators when it is built: a ``Source`` for its entry-point group, an
``Interface`` and ``Checks`` for its kind, and the ``Settings`` parsed from
the environment (again only when it changes). ``_world`` coordinates what spans every registry (plugin
folders, ``refresh``, ``reset_discovery``) and ``_kinds`` builds the built-in
registries; docs/index.md ("Architecture") has the map, and
``codex_ml.registry.testing`` gives tests a fresh, isolated world.

Every public name is imported from its module when first asked for, so
``from codex_ml.registry import Registry`` pays only for what a registry
needs, and the built-in registries (with the offline catalogue) are built
when one of them, or a ``get_x``/``list_x`` helper, is first used.
"""

# ruff: noqa: F405  (the kinds' names come from ``_kinds``, imported only for the type checker)
from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._directory import all_registries, registries
    from ._dirstate import DirReport, set_auto_discover
    from ._entry import Entry, Provenance
    from ._epindex import EPRecord
    from ._epindex import Index as EntryPointIndex
    from ._errors import (
        InterfaceError,
        InvalidNameError,
        PluginWarning,
        RegistryCollisionError,
        RegistryError,
        RegistryLoadError,
        ToolSignatureError,
        UnknownComponentError,
    )
    from ._interfaces import Interface
    from ._kinds import *  # noqa: F403  (the built-in registries and their get_x/list_x helpers)
    from ._registry import Registry
    from ._report import DiscoveryReport, PluginFailure
    from ._settings import Settings, SettingsWarning
    from ._world import discover_plugins, reset_discovery

# Where each name lives (module, attribute); every other public name is ``_kinds``'.
_HOME = {
    "DirReport": ("_dirstate", "DirReport"), "set_auto_discover": ("_dirstate", "set_auto_discover"),
    "DiscoveryReport": ("_report", "DiscoveryReport"), "PluginFailure": ("_report", "PluginFailure"),
    "Entry": ("_entry", "Entry"), "Provenance": ("_entry", "Provenance"),
    "EPRecord": ("_epindex", "EPRecord"), "EntryPointIndex": ("_epindex", "Index"),
    "Interface": ("_interfaces", "Interface"), "Registry": ("_registry", "Registry"),
    "Settings": ("_settings", "Settings"), "SettingsWarning": ("_settings", "SettingsWarning"),
    "discover_plugins": ("_world", "discover_plugins"), "reset_discovery": ("_world", "reset_discovery"),
    **{name: ("_errors", name) for name in (
        "InterfaceError", "InvalidNameError", "PluginWarning", "RegistryCollisionError", "RegistryError",
        "RegistryLoadError", "ToolSignatureError", "UnknownComponentError")},
}


def __getattr__(name: str) -> object:
    """Import a public name from its module on first use (PEP 562), then keep it here."""
    if name not in __all__ or name in globals():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _HOME.get(name, ("_kinds", name))
    __import__(f"{__name__}.{module}")
    value = getattr(sys.modules[f"{__name__}.{module}"], attribute)
    globals()[name] = value
    return value


class LazyModule:
    """A module of this package imported at its first attribute access (what only some calls need).

    The importer's global of that name is then the module itself, so later
    calls cost what a plain module-level import costs.
    """

    __slots__ = ("_home", "_name")

    def __init__(self, name: str, home: dict[str, object]) -> None:
        self._name, self._home = name, home

    def __getattr__(self, attr: str) -> object:
        full = f"{__name__}.{self._name}"
        # Always through the import system: a module another thread is still running is in
        # sys.modules already, half built, and __import__ waits until it is done.
        __import__(full)
        module = sys.modules[full]
        self._home[self._name] = module
        return getattr(module, attr)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def reload_settings() -> None:
    """Read the ``CODEX_ML_*`` environment again now (a changed variable is also seen at the next access)."""
    from . import _settings

    _settings.reset()


def plugin_dir_report() -> DirReport:
    """What the last plugin-folder pass did: roots, files loaded, failed and refused."""
    from ._dirstate import STATE

    return STATE.report


def entry_point_index() -> EntryPointIndex:
    """Every installed ``codex_ml*`` entry point (``.records``) and whether it came from the cache."""
    from . import _epindex

    return _epindex.current()


def discover_all(force: bool = False, strict: bool | None = None) -> list[DiscoveryReport]:
    """Run ``init_*_plugins()`` for every registry (what ``codex-ml doctor`` does)."""
    from ._directory import all_registries

    return [reg.discover(force=force, strict=strict) for reg in all_registries()]


__all__ = [
    "DirReport",
    "DiscoveryReport",
    "Entry",
    "Interface",
    "InterfaceError",
    "InvalidNameError",
    "PluginFailure",
    "PluginWarning",
    "Provenance",
    "Registry",
    "Settings",
    "SettingsWarning",
    "RegistryCollisionError",
    "RegistryError",
    "RegistryLoadError",
    "ToolSignatureError",
    "UnknownComponentError",
    "agent_registry",
    "all_registries",
    "data_loader_registry",
    "discover_all",
    "plugin_dir_report",
    "entry_point_index",
    "EntryPointIndex",
    "EPRecord",
    "discover_plugins",
    "metric_registry",
    "model_registry",
    "pipeline_registry",
    "logger_registry",
    "print_registry_summary",
    "prompt_registry",
    "register_tool",
    "registries",
    "registry_disabled",
    "reload_settings",
    "reset_discovery",
    "reward_model_registry",
    "rl_agent_registry",
    "set_auto_discover",
    "tokenizer_registry",
    "tool",
    "tool_registry",
    "trainer_registry",
]
for _kind_name in ("tokenizer", "model", "metric", "data_loader", "dataset", "trainer",
                   "reward_model", "rl_agent", "pipeline", "tool", "prompt", "agent", "logger"):
    __all__ += [f"get_{_kind_name}", f"list_{_kind_name}s", f"search_{_kind_name}s",
                f"get_{_kind_name}_metadata", f"init_{_kind_name}_plugins"]
    if _kind_name != "tool":
        __all__.append(f"register_{_kind_name}")
del _kind_name
