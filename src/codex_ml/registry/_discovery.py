"""Entry-point discovery for one registry: factories, hooks and bundles.

* A factory entry point (``name = pkg.mod:build``) becomes a lazy entry:
  listed at once, imported on first ``get``/``create``.
* A hook entry point targets a module, or a callable named ``register*``
  (docs/compatibility.md); it is run with the registry's register function on
  ``init_*_plugins()``, ``list(resolve=True)`` and a lookup miss.
* Bundles (group ``codex_ml.plugins``) register into any kind when run.

Failures are recorded (never raised, unless strict mode asks), warned once,
and quoted when the broken component is asked for.
"""

from __future__ import annotations

from . import _epindex, _errors, _settings
from ._context import import_target, loading
from ._entry import BUILTIN, ENTRY_POINT, Provenance
from ._errors import RegistryLoadError
from ._names import normalise
from ._report import PluginFailure
from ._source import Once
from ._table import hook_group

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import Any

    from ._context import LoadFrame
    from ._entry import Entry
    from ._source import Source


BUNDLE_GROUP = "codex_ml.plugins"


# ------------------------------------------------------------ allow / deny

def _matches(rule: str, rec: _epindex.EPRecord) -> bool:
    """A ``distribution`` or ``group:name`` rule, names compared as the registry does."""
    if ":" in rule and rule.startswith("codex_ml"):
        group, _, name = rule.partition(":")
        return group.strip() == rec.group and (name.strip() == "*" or normalise(name) == normalise(rec.name))
    return _dist_norm(rule) == _dist_norm(rec.distribution)


def _dist_norm(name: str) -> str:
    """PEP 503 normalisation: case, '-', '_' and '.' alike."""
    return name.strip().lower().replace("_", "-").replace(".", "-")


def rules() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(disable, allow) rules from CODEX_ML_PLUGINS_DISABLE / CODEX_ML_PLUGINS_ALLOW."""
    settings = _settings.current()
    return settings.disable, settings.allow


def allowed(rec: _epindex.EPRecord, policy: tuple[tuple[str, ...], tuple[str, ...]] | None = None) -> str:
    """'' if ``rec`` may load, else why not (CODEX_ML_PLUGINS_DISABLE / _ALLOW)."""
    disable, allow = policy if policy is not None else rules()
    if (not disable and not allow) or _is_builtin(rec):
        return ""
    if any(_matches(r, rec) for r in disable):
        return "disabled by CODEX_ML_PLUGINS_DISABLE"
    if allow and not any(_matches(r, rec) for r in allow):
        return "not in CODEX_ML_PLUGINS_ALLOW"
    return ""


def _is_builtin(rec: _epindex.EPRecord) -> bool:
    """Built-in means the code lives inside this installed package, whatever the distribution
    calls itself: an impostor named ``codex-ml`` is a third-party plugin (docs/reliability.md)."""
    from ._registering import is_own_code

    module = rec.value.split("[", 1)[0].partition(":")[0].strip()
    return is_own_code(module)


def provenance_of(rec: _epindex.EPRecord) -> Provenance:
    module, _, qual = rec.value.split("[", 1)[0].strip().partition(":")
    return Provenance(
        BUILTIN if _is_builtin(rec) else ENTRY_POINT,
        module=module.strip(),
        qualname=qual.strip(),
        distribution=rec.distribution,
        dist_version=rec.version,
        entry_point=f"{rec.group}:{rec.name} = {rec.value}",
    )


def is_hook_target(value: str) -> bool:
    """Hooks (docs/compatibility.md): a module target, or a callable named ``register*``."""
    spec = value.split("[", 1)[0].strip()
    if ":" not in spec:
        return True
    attr = spec.partition(":")[2].strip().rsplit(".", 1)[-1]
    return attr == "register" or attr.startswith("register_")


def takes_register_fn(obj: Any) -> bool:
    """A callable found behind a factory-looking name that is really a hook."""
    if isinstance(obj, type) or not callable(obj):
        return False
    code = getattr(obj, "__code__", None)
    names: tuple[str, ...] = code.co_varnames[: code.co_argcount] if code is not None else ()
    return bool(names) and names[0] in ("register_fn", "register")


# ----------------------------------------------------------------- loading
def load(source: Source, entry: Entry, registry: Any) -> Any:
    """Import a lazy entry's target (once); a failure is recorded and raised as RegistryLoadError."""
    failure = source.failures.get(normalise(entry.name))
    if failure is not None:
        raise source.load_error(failure) from failure.error
    try:
        with loading(entry.provenance, source.kind) as frame:
            obj = import_target(entry.target)
        _refusals(source, frame, entry)
        if _may_hook(entry) and takes_register_fn(obj):
            return _load_hook_entry(source, entry, obj, registry)
        if isinstance(obj, type) and registry.interface is not None:
            registry.interface.check_class(obj, source=str(entry.provenance))
    except KeyboardInterrupt:
        raise
    except HookRegisteredOthers as done:  # the hook did its job: the name is absent, not broken
        from ._registering import unknown

        source.registered_instead[normalise(entry.name)] = done.names  # said again at the next lookup
        raise unknown(registry, entry.name, done.names) from None
    except BaseException as exc:  # SystemExit too: a plugin never ends the app
        failure = source.record_failure(PluginFailure(source.kind, entry.name, entry.provenance, exc))
        raise source.load_error(failure) from exc
    return obj


class HookRegisteredOthers(Exception):
    """A factory-looking hook ran and registered names other than its own (or was shadowed)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self.names = names


def _load_hook_entry(source: Source, entry: Entry, hook: Any, registry: Any) -> Any:
    """A factory-looking entry point that is a hook: run it, then look again.

    A registration that precedence ignored (shadowed by a built-in, say) is
    still a registration: the hook did its job, the shadowing is reported.
    """
    with registry._lock:
        registry._table.entries.pop(normalise(entry.name), None)
    with loading(entry.provenance, source.kind) as frame:
        call_hook(hook, registry.register)
    again = registry._table.find(entry.name)
    if again is not None:
        return again.obj if again.loaded else load(source, again, registry)
    if frame.registered:
        raise HookRegisteredOthers([name for _, name in frame.registered])
    raise LookupError(f"hook {entry.provenance} registered nothing: its register function never called "
                      f"register_fn (expected at least {entry.name!r})")


def _refusals(source: Source, frame: LoadFrame, entry: Entry) -> None:
    for refused, why in frame.refused:  # the import tried to register into another kind
        refusal = RegistryLoadError(refused, source.label, str(entry.provenance), why)
        source.report.failed.append(PluginFailure(source.kind, refused, entry.provenance, refusal))


def _may_hook(entry: Entry) -> bool:
    """Only our own groups (``codex_ml.*``) have hooks: elsewhere a target is the component itself."""
    ep = entry.provenance.entry_point
    return not ep or hook_group(ep)


# ------------------------------------------------------------------- hooks
def run_hook(registry: Any, rec: _epindex.EPRecord, kind: str | None) -> PluginFailure | None:
    """Load a hook entry point and call it with the registry's register function."""
    provenance = provenance_of(rec)
    with loading(provenance, kind) as frame:
        try:
            call_hook(import_target(rec.value), registry.register)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: one plugin never ends the app
            return PluginFailure(registry.kind, rec.name, provenance, exc)
    if frame.refused:
        error = RegistryLoadError(rec.name, registry.label, str(provenance), "; ".join(w for _, w in frame.refused))
        return PluginFailure(registry.kind, rec.name, provenance, error)
    return None


def call_hook(target: Any, register_fn: Any) -> None:
    import types

    if isinstance(target, types.ModuleType):
        hook = getattr(target, "register", None)
        if callable(hook):
            hook(register_fn)
    elif callable(target):
        target(register_fn)
    else:
        raise TypeError(f"hook target {target!r} is neither a module nor callable")


class Bundles:
    """The ``codex_ml.plugins`` group: run once per process, for every kind."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.once = Once()
        self.failures: list[PluginFailure] = []
        self.loaded: list[str] = []

    def run(self, force: bool = False) -> None:
        if force:
            self.once = Once()
        self.once.run(self._run_all)

    def _run_all(self) -> None:
        self.failures, self.loaded = [], []
        for rec in _epindex.records(BUNDLE_GROUP):
            self._run_one(rec)

    def _run_one(self, rec: _epindex.EPRecord) -> None:
        provenance = provenance_of(rec)
        if allowed(rec):
            return
        with loading(provenance, None):
            try:
                target = import_target(rec.value)
                _call_bundle(target)
                self.loaded.append(rec.name)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                failure = PluginFailure("plugins", rec.name, provenance, exc)
                self.failures.append(failure)
                _errors.warn_once(f"Skipped plugin bundle {failure}", key=f"bundle:{rec.group}:{rec.name}")


def _call_bundle(target: Any) -> None:
    """A bundle registers on import; a ``register()`` it exposes is called too."""
    import types

    hook = getattr(target, "register", None) if isinstance(target, types.ModuleType) else target
    if callable(hook) and not isinstance(hook, type):
        code = getattr(hook, "__code__", None)
        if code is None or code.co_argcount == 0:
            hook()


BUNDLES = Bundles()
