"""Links a function instance has read lately: a plain link's visit needs no read of its item.

A copy is used for at most `lifetime` (milliseconds) after it was read, so a PATCH, a disable or
a delete reaches every instance within that bound; expiry is checked against the copy's
expires_at on every request, so a link never outlives its expiry by a second."""

from __future__ import annotations

from collections import OrderedDict
from functools import cache

from ..instance import kept
from .identity import LinkId
from .model import Link

MAX_LINKS = 10_000  # a few MB at most; the least recently read go first


class LinkCache:
    def __init__(self, lifetime: int, size: int = MAX_LINKS) -> None:
        self.lifetime, self.size = lifetime, size
        self._links: OrderedDict[tuple[str, str], tuple[int, Link]] = OrderedDict()

    def get(self, table: str, link_id: LinkId, now: int) -> Link | None:
        kept = self._links.get((table, link_id.key))
        if kept is None or now - kept[0] >= self.lifetime or now < kept[0]:
            return None
        return kept[1]

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
