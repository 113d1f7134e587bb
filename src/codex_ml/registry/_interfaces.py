"""Interface checks of seed 003: a registered class must have its kind's methods."""

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

    __slots__ = ("label", "alternatives")

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

    def check_product(self, product: Any, source: str = "") -> None:
        """Check what a factory returned (for models: the model inside a pair)."""
        target = _model_part(product) if self.label == "Model" else product
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


def _model_part(product: Any) -> Any:
    """The model inside a (model, tokenizer) tuple, mapping or object (seed 000)."""
    from collections.abc import Mapping

    if isinstance(product, tuple) and len(product) == 2:
        return product[0]
    if isinstance(product, Mapping):
        return product.get("model")
    if hasattr(product, "model") and hasattr(product, "tokenizer"):
        return product.model
    return product


def abstract(func: Any) -> Any:
    """Mark a base-class method as a placeholder that subclasses must replace."""
    func._codex_abstract = True
    return func


MODEL = Interface("Model", (("forward",),))
TRAINER = Interface("Trainer", (("training_step", "validation_step"),))
PIPELINE = Interface("Pipeline", (("run",),))
DATASET = Interface("Dataset", (("__len__", "__getitem__"), ("__iter__",)))
