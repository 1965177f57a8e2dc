"""What one Lambda instance keeps from one request to the next: its clients, its settings, the
links it has read, the day's salts. Each piece registers its way to forget here, and reset()
forgets them all at once: how a test (or the devserver's `invoke`) starts from a new instance.
The clock is no kept state: it is set with clock.use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar


class _Cached(Protocol):
    def cache_clear(self) -> None: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


C = TypeVar("C", bound=_Cached)
_forgetters: list[Callable[[], None]] = []


def forgets(forget: Callable[[], None]) -> None:
    """Register what reset() calls to forget one piece of kept state."""
    _forgetters.append(forget)


def kept(function: C) -> C:
    """A functools.cache'd function whose answers an instance keeps (a client, the settings)."""
    forgets(function.cache_clear)
    return function


def reset() -> None:
    """Forget everything this instance keeps, as a new instance would start."""
    for forget in _forgetters:
        forget()
