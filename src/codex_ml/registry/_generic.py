"""``Generic`` and ``T`` for the registry classes, without importing typing at run time.

``typing`` costs milliseconds to import; the checker sees the real thing, the
interpreter a stand-in that still accepts ``Registry[Model]``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic as Generic
    from typing import TypeVar

    T = TypeVar("T")
else:
    class Generic:
        """Subscription returns the class itself: ``Registry[Model] is Registry``."""

        def __class_getitem__(cls, item):
            return cls

    T = None

__all__ = ["Generic", "T"]
