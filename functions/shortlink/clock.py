"""The one clock every handler reads. Lambda uses the wall clock; tests and the devserver
move it, so that expiry and back-off can be shown without waiting for time to pass."""

from __future__ import annotations

import time
from collections.abc import Callable

_source: Callable[[], float] = time.time


def now() -> float:
    """Epoch seconds, as the core's `now` parameters take them."""
    return _source()


def use(source: Callable[[], float]) -> None:
    """Read time from `source` from now on (time.time restores the wall clock)."""
    global _source
    _source = source
