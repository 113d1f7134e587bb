"""Interface checks: a registered class must have its kind's methods (docs/guides/registries.md)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs milliseconds to import

from ._errors import InterfaceError

if TYPE_CHECKING:
    from typing import Any


class Interface:
    """Methods a component of one kind must implement.

    ``alternatives`` are tried in order; the first fully present set passes
    (a dataset needs ``__len__`` and ``__getitem__``, or ``__iter__``).
    """

    __slots__ = ("alternatives", "label")

    def __init__(self, label: str, alternatives: tuple[tuple[str, ...], ...]) -> None:
        self.label = label
        self.alternatives = alternatives

    def __repr__(self) -> str:
        return f"Interface({self.label!r}, {self.alternatives!r})"

    def missing(self, cls: type) -> tuple[str, ...]:
        first_missing: tuple[str, ...] = ()
        for names in self.alternatives:
            absent = tuple(n for n in names if not _implements(cls, n))
            if not absent:
                return ()
            first_missing = first_missing or absent
        return first_missing

    def check_class(self, cls: type, source: str = "") -> None:
        absent = self.missing(cls)
        if absent:
            raise InterfaceError(self.label, cls.__name__, absent, source=source)

    def check_value(self, name: str, value: Any, source: str = "") -> None:
        """A registered object that is neither a class nor a factory must be a component itself."""
        absent = self.missing(type(value))
        if absent:
            raise InterfaceError(self.label, type(value).__name__, absent, source=source, name=name, value=value)

    def check_product(self, product: Any, source: str = "") -> None:
        """Check what a factory returned (for models: the model inside a pair)."""
        target = split_model_and_tokenizer(product)[0] if self.label == "Model" else product
        if target is None or isinstance(target, type):
            return
        self.check_class(type(target), source=source)


class Checks:
    """What a kind checks beyond its interface: at registration, and on every access.

    ``on_access`` returns True when the object must be checked again next time
    (the registry then never caches it on its hot path).
    """

    def on_register(self, entry: Any) -> None:
        """Called with each new entry before it is inserted; raise to refuse it."""

    def on_access(self, entry: Any) -> bool:
        return False


def _implements(cls: type, name: str) -> bool:
    member = getattr(cls, name, None)
    if member is None:
        return False
    # Abstract placeholders do not count: abc's, ours and torch's nn.Module.forward.
    if getattr(member, "__isabstractmethod__", False) or getattr(member, "_codex_abstract", False):
        return False
    return getattr(member, "__name__", "") != "_forward_unimplemented"


def split_model_and_tokenizer(result: Any) -> tuple[Any, Any]:
    """What a model factory returned, as ``(model, tokenizer or None)`` (docs/compatibility.md).

    A ``(model, tokenizer)`` tuple, a mapping with ``model``/``tokenizer``
    keys, an object with those attributes, or the model itself. The one rule
    for the registry's checks and the loaders alike.
    """
    from collections.abc import Mapping

    if isinstance(result, tuple):
        if len(result) != 2:
            raise TypeError(f"a model factory returned a tuple of {len(result)} items; expected (model, tokenizer)")
        return result[0], result[1]
    if isinstance(result, Mapping):
        if "model" not in result:
            raise TypeError(f"a model factory returned a mapping without a 'model' key (keys: {sorted(result)})")
        return result["model"], result.get("tokenizer")
    if hasattr(result, "model") and (hasattr(result, "tokenizer") or not hasattr(result, "forward")):
        return result.model, getattr(result, "tokenizer", None)
    return result, None


def abstract(func: Any) -> Any:
    """Mark a base-class method as a placeholder that subclasses must replace."""
    func._codex_abstract = True
    return func


MODEL = Interface("Model", (("forward",),))
TRAINER = Interface("Trainer", (("training_step", "validation_step"),))
PIPELINE = Interface("Pipeline", (("run",),))
DATASET = Interface("Dataset", (("__len__", "__getitem__"), ("__iter__",)))
