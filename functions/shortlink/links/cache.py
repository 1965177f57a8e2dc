"""Links a function instance has read lately: a plain link's visit needs no read of its item.

A copy that lets visits through is used for at most `lifetime` (milliseconds) after it was read;
a PATCH, disable or delete reaches it sooner, at its next visit, through the fence on the visit
counters (links/store.py). A copy that refuses visits (disabled, exhausted, not yet valid, a
password to ask for) counts nothing, so no fence reaches it: it is used for at most a second,
the bound on how late an enable, a later expiry or a removed password is seen. Expiry is checked
against the copy's expires_at on every request, so a link never outlives its expiry by a second.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import cache

from ..clock import SECOND
from ..instance import kept
from .identity import LinkId
from .model import Link

MAX_LINKS = 10_000  # a few MB at most; the least recently read go first
REFUSING_COPY = SECOND


class LinkCache:
    def __init__(self, lifetime: int, size: int = MAX_LINKS) -> None:
        self.lifetime, self.size = lifetime, size
        self._links: OrderedDict[tuple[str, str], tuple[int, Link]] = OrderedDict()

    def get(self, table: str, link_id: LinkId, now: int) -> Link | None:
        kept = self._links.get((table, link_id.key))
        if kept is None or now < kept[0]:
            return None
        read_at, link = kept
        lets_through = link.state(now) == "active" and link.password_hash is None
        return link if now - read_at < (self.lifetime if lets_through else min(self.lifetime, REFUSING_COPY)) else None

    def forget(self, table: str, link_id: LinkId) -> None:
        self._links.pop((table, link_id.key), None)

    def put(self, table: str, link: Link, now: int) -> None:
        if self.lifetime <= 0:
            return
        key = (table, link.id.key)
        self._links[key] = (now, link)
        self._links.move_to_end(key)
        while len(self._links) > self.size:
            self._links.popitem(last=False)


@kept
@cache
def shared(lifetime: int) -> LinkCache:
    """The cache of this instance, kept across requests."""
    return LinkCache(lifetime)
