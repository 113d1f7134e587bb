"""Turning a ``register()`` call into an entry: its name, provenance and metadata."""

from __future__ import annotations

import functools
import types

from . import _lookup
from ._entry import Entry, Provenance, object_provenance
from ._names import normalise, validate_name

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from . import _context
    from ._errors import UnknownComponentError
    from ._precedence import Outcome
    from ._table import Table

STANDARD_META = ("version", "author", "description", "tags")


def key_of(obj: object, label: str) -> str:
    """The name an object registers under on its own: ``id``, ``name``, ``__name__`` (docs/compatibility.md)."""
    for attr in ("id", "name", "__name__"):
        try:
            value = getattr(obj, attr, None)
        except Exception:  # noqa: BLE001 - a property that raises is not a name
            value = None
        if isinstance(value, str):
            return value
    raise TypeError(
        f"{label} name must be a str, got {type(obj).__name__}: {obj!r}. Fix: call register(name, obj), "
        "or register an object that has an 'id', 'name' or '__name__' string attribute.")


def register(reg: Any, name: Any, obj: Any, override: bool, factory: bool | None, aliases: Sequence[str],
             metadata: dict[str, Any]) -> Any:
    """``Registry.register``: ``obj`` under ``name``, or a decorator without ``obj`` (docs/compatibility.md)."""
    if not isinstance(name, str):
        if obj is not None:
            require_str(name, reg.label)
        obj, name = name, key_of(name, reg.label)
    if obj is None:
        def decorator(target: Any) -> Any:
            reg.register(name, target, override=override, factory=factory, aliases=aliases, **metadata)
            return target

        return decorator
    display = validate_name(name, reg.label)
    frame = frame_for_registration()
    provenance = provenance_for(obj, frame)
    is_factory = factory_flag(reg, display, obj, factory)
    entry = make_entry(display, obj, provenance, is_factory, aliases, metadata, reg.label)
    if frame is not None and refused(reg, frame, display, provenance):
        return obj
    check(reg, entry)
    insert(reg, entry, override)
    if frame is not None:
        frame.registered.append((reg.kind, display))
    return obj


def insert(reg: Any, entry: Entry, override: bool) -> None:
    """Place ``entry`` by precedence; an entry point of one of its names becomes an Entry first."""
    with reg._lock:
        table = reg._table
        if table.view is not None:
            for name in (entry.name, *entry.aliases):
                reg.source.materialise(table, normalise(name))
        outcome = place(table, entry, override, reg.label)
        reg.source.failures.pop(normalise(entry.name), None)
        reg._fast = {}  # after the table changed: see _lookup.access
    reg.source.note(outcome)


def deprecate(reg: Any, old: str, new: str, message: str | None) -> None:
    validate_name(old, reg.label)
    note = message or f"{reg.label} {old!r} is deprecated; use {new!r} instead"
    with reg._lock:
        reg._table.deprecated[normalise(old)] = (old, new, note)
        reg._fast = {}  # after the table changed: see _lookup.access


def unregister(reg: Any, name: str) -> None:
    require_str(name, reg.label)
    with reg._lock:
        key = reg._table.key(name)
        if key is None:
            raise unknown(reg, name)
        reg._table.remove(key)
        reg._fast = {}  # after the table changed: see _lookup.access


def require_str(name: object, what: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a str, got {type(name).__name__}: {name!r}")


def frame_for_registration() -> _context.LoadFrame | None:
    """The plugin this registration comes from: a running load, or plugin code calling later."""
    from . import _context  # not needed to list or look up: imported on the first registration

    return _context.current() or _context.owner_of_caller()


def provenance_for(obj: Any, frame: _context.LoadFrame | None) -> Provenance:
    own = object_provenance(obj)
    if frame is None:
        return own
    return frame.provenance.replace(module=own.module, qualname=own.qualname,
                                    file=frame.provenance.file or own.file, line=own.line)


def factory_flag(reg: Any, name: str, obj: Any, factory: bool | None) -> bool:
    """Whether ``create()`` calls ``obj`` (docs/guides/registries.md): a class or function builds,
    as the registry does by default; any other object (a model, a tokenizer, even a callable one)
    is the component itself unless ``factory=True`` says it builds."""
    if factory is None:
        return reg.default_factory and builds(obj)
    if factory and not callable(obj):
        value = "" if reg.interface is not None else ", or pass factory=False to register the value itself"
        raise TypeError(f"{reg.label} {name!r} was registered with factory=True, but {type(obj).__name__} "
                        f"{obj!r} cannot be called. Fix: register a class or function{value}.")
    return bool(factory)


def builds(obj: object) -> bool:
    """A class, a function, a method or a ``functools.partial`` of one: what is called to build."""
    return isinstance(obj, _BUILDERS) or type(obj).__name__ in _COMPILED_FUNCTIONS


_BUILDERS = (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType, functools.partial)
_COMPILED_FUNCTIONS = ("cython_function_or_method", "fused_cython_function", "method_descriptor")


def make_entry(name: str, obj: Any, provenance: Provenance, factory: bool, aliases: Sequence[str],
               metadata: Mapping[str, Any], label: str) -> Entry:
    meta: dict[str, Any] = {k: None for k in STANDARD_META}
    meta["tags"] = ()
    meta.update(metadata)
    meta["tags"] = tags_of(meta["tags"], name)
    alias_names = tuple(validate_name(a, label) for a in aliases)
    return Entry(name, obj, provenance, factory, metadata=meta, aliases=alias_names)


def tags_of(tags: Any, owner: str) -> tuple[str, ...]:
    """Tags as a tuple of str: one string is one tag, not its characters."""
    if tags is None:
        return ()
    if isinstance(tags, str):
        return (tags,)
    try:
        items = tuple(tags)
    except TypeError:
        raise TypeError(f"tags of {owner!r} must be a string or a sequence of strings, "
                        f"got {type(tags).__name__}: {tags!r}") from None
    bad = [t for t in items if not isinstance(t, str)]
    if bad:
        raise TypeError(f"tags of {owner!r} must be strings; got {bad[0]!r} ({type(bad[0]).__name__})")
    return items


def cross_kind(frame: _context.LoadFrame, kind: str, label: str, display: str) -> str:
    """Why a plugin of another kind may not register here ('' when it may)."""
    if frame.allows(kind):
        return ""
    route = "plugin's own code, later (a thread or a factory it returned)" if frame.later else "entry point"
    return (f"registered {label} {display!r} from a {frame.kind} {route}; a plugin "
            "that provides several kinds belongs in the 'codex_ml.plugins' group")


def is_own_code(module: str) -> bool:
    """Whether ``module`` is code inside the installed codex_ml package (docs/compatibility.md)."""
    import os

    if module != "codex_ml" and not module.startswith("codex_ml."):
        return False
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rel = os.path.join(package, *module.split(".")[1:])
    return os.path.isdir(rel) or os.path.isfile(rel + ".py") or module == "codex_ml"


def refused(reg: Any, frame: _context.LoadFrame, display: str, provenance: Provenance) -> bool:
    """A plugin of another kind registering here: refuse it, record it, warn once."""
    why = cross_kind(frame, reg.kind, reg.label, display)
    if not why:
        return False
    from ._errors import RegistryLoadError, warn_once
    from ._report import PluginFailure

    frame.refused.append((display, why))
    if frame.later:  # no load is running to collect the refusal: record it here
        refusal = RegistryLoadError(display, reg.label, str(provenance), why)
        reg.source.report.failed.append(PluginFailure(reg.kind, display, provenance, refusal))
    warn_once(f"Refused a registration by {provenance}: {why}", key=f"kind:{why}")
    return True


def place(table: Table, entry: Entry, override: bool, label: str) -> Outcome:
    """Put ``entry`` in ``table`` as precedence decides (docs/guides/registries.md)."""
    from . import _precedence

    return _precedence.place(table, entry, override, label)


def check(reg: Any, entry: Entry) -> None:
    """What the registry's kind asks of a new entry: its interface (classes) and its checks."""
    if reg.interface is not None:
        if isinstance(entry.obj, type):
            reg.interface.check_class(entry.obj, source=str(entry.provenance))
        elif not entry.factory and not builds(entry.obj):  # a ready-made component: a model, a dataset
            reg.interface.check_value(entry.name, entry.obj, source=str(entry.provenance))
    if reg.checks is not None:
        reg.checks.on_register(entry)


def loaded_items(reg: Any) -> list[tuple[str, Any]]:
    """``reg.items()``: every component loaded; a broken plugin is skipped (it was warned)."""
    from ._errors import RegistryLoadError, UnknownComponentError

    out = []
    for name in reg.list():
        try:
            out.append((name, reg[name]))
        except (RegistryLoadError, UnknownComponentError):  # broken, or a hook that registered other names
            continue
    return out


def metadata_of(entry: Entry, kind: str, failure: Any) -> dict[str, Any]:
    """``registry.metadata(name)``: the entry's metadata, name, load state and provenance."""
    from ._precedence import target_of

    meta = dict(entry.metadata)
    if not meta.get("description") and entry.loaded:
        doc = (getattr(entry.obj, "__doc__", None) or "").strip()
        meta["description"] = doc.splitlines()[0] if doc else None
    meta.update(
        name=entry.name, kind=kind, aliases=entry.aliases, factory=entry.factory,
        loaded=entry.loaded, target=entry.target or target_of(entry.obj),
        provenance=entry.provenance.as_dict(), error=failure.cause if failure else None)
    return meta


def lazy_entry(reg: Any, name: str, target: str, builtin: bool, factory: bool | None,
               aliases: Sequence[str], metadata: Mapping[str, Any]) -> Entry:
    """``register_lazy``: ``builtin=True`` counts only for code inside this installed package."""
    from ._entry import BUILTIN, IN_PROCESS, NOT_LOADED

    display = validate_name(name, reg.label)
    module, _, qualname = target.partition(":")
    ours = builtin and is_own_code(module.strip())
    provenance = Provenance(BUILTIN if ours else IN_PROCESS, module=module, qualname=qualname,
                            distribution="codex-ml" if ours else "")
    is_factory = reg.default_factory if factory is None else bool(factory)
    entry = make_entry(display, NOT_LOADED, provenance, is_factory, aliases, metadata, reg.label)
    entry.target = target
    return entry


def build(reg: Any, name: str, kwargs: dict[str, Any]) -> Any:
    """``registry.create``: call a class or factory; a plain value comes back as is."""
    obj = reg[name]
    entry = _lookup.find(reg, name)
    if entry is None or not entry.factory:
        if kwargs and reg.interface is not None and not builds(obj):
            raise TypeError(
                f"{reg.label} {name!r} is a registered {reg.label} object, not a factory, so it takes no "
                f"arguments (got {', '.join(sorted(kwargs))}). Fix: call create({name!r}) without them, or "
                "register a class or function that builds it from them.")
        if kwargs and callable(obj):  # a metric function, say: the arguments are bound, nothing is called
            import functools

            return functools.partial(obj, **kwargs)
        return obj
    product = obj(**kwargs) if callable(obj) else obj
    if reg.interface is not None and not isinstance(obj, type):
        reg.interface.check_product(product, source=f"returned by {entry.provenance}")
    return product


def unknown(reg: Any, name: str, instead: Sequence[str] = ()) -> UnknownComponentError:
    """The error for an absent name: where the registry looked, what is close, what failed.

    ``instead``: what a hook of that name registered (its own name it did not).
    """
    from . import _search, _world
    from ._errors import UnknownComponentError

    instead = instead or reg.source.registered_instead.get(normalise(name), ())
    close = [*dict.fromkeys(instead)] or _search.close_matches(name, reg._table.names())
    return UnknownComponentError(
        name, reg.label, searched=_world.searched_places(reg), close_matches=close,
        failures=[str(f) for f in reg.source.failures.values()])
