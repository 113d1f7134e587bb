"""Sibling helper files of plugin files, imported through ``sys.path``, made safe.

Plugin files often share code the common way::

    sys.path.insert(0, os.path.dirname(__file__))
    import helpers

Python's own importer would then read and write ``__pycache__`` in the plugin
folder and open ``helpers.py`` without any check. Once discovery runs, a path
hook claims every ``sys.path`` folder inside a trusted plugin root: modules
there are checked and read from one descriptor (:mod:`._fsafe`), compiled
from those bytes, never from or to ``__pycache__`` (a cache others can write
gets a warning), and a file that discovery already imported as a plugin is
the same module object, so no file runs twice. See
docs/guides/directory_plugins.md, "Sharing code between plugin files".
"""

from __future__ import annotations

import _thread
import os
import sys
from importlib.abc import Loader
from importlib.machinery import ModuleSpec

from . import _fsafe
from ._context import loading
from ._entry import PLUGIN_FILE, Provenance
from ._errors import UnsafeFileError

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

MAX_HELPER_BYTES = 16 << 20


class Hook:
    """The trusted plugin roots and every module read from them, by real path."""

    def __init__(self) -> None:
        self.roots: tuple[str, ...] = ()
        self.modules: dict[str, ModuleType] = {}
        self.served: dict[str, ModuleType] = {}  # what this hook put in sys.modules, by name
        # Helpers are imported from any thread while a pass starts: the two dicts change under it.
        self.lock = _thread.allocate_lock()
        self.trust = _fsafe.Trust() if _fsafe.CHECKED else None
        self.warn: Callable[[str, str], None] = lambda message, key: None

    def start(self, roots: list[str], trust: _fsafe.Trust, warn: Callable[[str, str], None]) -> None:
        """A new discovery pass: forget what ran, claim these roots' folders from now on."""
        with self.lock:
            served, self.served, self.modules = self.served, {}, {}
        for name, module in served.items():
            # Only our own module, and not while another thread is still importing it
            # (the import system takes it out of sys.modules itself when it is done).
            spec = getattr(module, "__spec__", None)
            if sys.modules.get(name) is module and not getattr(spec, "_initializing", False):
                sys.modules.pop(name, None)
        self.roots, self.trust, self.warn = tuple(roots), trust, warn
        if roots and self not in sys.path_hooks:  # installed only once there are plugin folders
            sys.path_hooks.insert(0, self)
        for entry in list(sys.path_importer_cache):  # folders Python's own finder already claimed
            if self._claims(entry):
                # pop: importlib.invalidate_caches() in another thread may delete it first
                sys.path_importer_cache.pop(entry, None)

    def _claims(self, entry: str) -> bool:
        try:
            real = os.path.realpath(entry or os.getcwd())
        except (OSError, ValueError):
            return False
        return any(real == r or real.startswith(r.rstrip("/") + "/") for r in self.roots)

    def __call__(self, entry: str) -> _Finder:
        """The path hook: a finder for folders inside a plugin root, ImportError for the rest."""
        if not self.roots or not self._claims(entry):
            raise ImportError("not a plugin folder")
        return _Finder(self, entry or os.getcwd())

    def spec(self, fullname: str, file: str, package: bool) -> ModuleSpec:
        try:
            source, real = _fsafe.read_checked(file, self.trust, max_bytes=MAX_HELPER_BYTES)
        except (UnsafeFileError, OSError) as exc:
            reason = exc.reason if isinstance(exc, UnsafeFileError) else str(exc)
            message = f"Refused plugin helper {file} (imported as {fullname!r}): {reason}"
            self.warn(message, f"refused:{file}")
            raise ImportError(message, name=fullname, path=file) from None
        self._check_cache(os.path.dirname(file))
        loader = _Loader(self, real, source)
        spec = ModuleSpec(fullname, loader, origin=file, is_package=package)
        spec.has_location = True
        if package:
            spec.submodule_search_locations = [os.path.dirname(file)]
        return spec

    def _check_cache(self, folder: str) -> None:
        cache = os.path.join(folder, "__pycache__")
        if not os.path.lexists(cache):
            return
        problem = _fsafe.check(cache, self.trust)
        if problem:
            self.warn(
                f"Ignored {cache}: {problem}, so anyone could plant bytecode there. Plugin files and "
                f"their helpers are compiled from source and never read or write it. Fix: rm -r {cache}",
                f"refused:{cache}",
            )


class _Finder:
    """Finds ``name.py`` and ``name/__init__.py`` in one plugin folder on ``sys.path``."""

    def __init__(self, hook: Hook, entry: str) -> None:
        self.hook, self.entry = hook, entry

    def find_spec(self, fullname: str, target: object = None) -> ModuleSpec | None:
        base = os.path.join(self.entry, fullname.rpartition(".")[2])
        for file, package in ((os.path.join(base, "__init__.py"), True), (base + ".py", False)):
            if os.path.lexists(file):
                return self.hook.spec(fullname, file, package)
        return None  # only source files load from plugin folders; the next sys.path entry is tried

    def invalidate_caches(self) -> None:
        """Nothing is cached: every lookup looks at the folder."""


class _Loader(Loader):
    """Runs the checked bytes of one file, once per discovery pass."""

    def __init__(self, hook: Hook, real: str, source: bytes) -> None:
        self.hook, self.real, self.source = hook, real, source

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        hook = self.hook
        with hook.lock:
            known = hook.modules.get(self.real)  # imported already (as a plugin file): the same module
            if known is not None:
                hook.served[spec.name] = known
        return known

    def exec_module(self, module: ModuleType) -> None:
        hook = self.hook
        with hook.lock:  # never held while plugin code runs: that code imports helpers too
            if hook.modules.get(self.real) is module:
                return
            hook.modules[self.real] = hook.served[module.__name__] = module
        code = compile(self.source, module.__spec__.origin or self.real, "exec", dont_inherit=True)  # type: ignore[union-attr]
        try:
            with loading(Provenance(PLUGIN_FILE, module=module.__name__, file=self.real)):
                exec(code, module.__dict__)  # noqa: S102 - running plugin code is the point
        except BaseException:
            with hook.lock:
                if hook.modules.get(self.real) is module:
                    del hook.modules[self.real]
            raise


HOOK = Hook()
