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
from dataclasses import dataclass, field
from functools import cache

from ..clock import SECOND
from ..instance import kept
from .identity import LinkId
from .model import Link

MAX_LINKS = 10_000  # a few MB at most; the least recently read go first
REFUSING_COPY = SECOND


@dataclass
class Copy:
    """A link as an instance read it, and what its visits taught the instance since: which of a
    ticketed link's counters hold no ticket (links/tickets.py), and whether none does."""

    read_at: int
    link: Link
    empty: set[int] = field(default_factory=set)
    used_up: bool = False


class LinkCache:
    def __init__(self, lifetime: int, size: int = MAX_LINKS) -> None:
        self.lifetime, self.size = lifetime, size
        self._links: OrderedDict[tuple[str, str], Copy] = OrderedDict()

    def get(self, table: str, link_id: LinkId, now: int) -> Link | None:
        kept = self.copy(table, link_id)
        if kept is None or now < kept.read_at:
            return None
        lets_through = kept.link.state(now) == "active" and kept.link.password_hash is None and not kept.used_up
        return kept.link if now - kept.read_at < (self.lifetime if lets_through else min(self.lifetime, REFUSING_COPY)) else None

    def copy(self, table: str, link_id: LinkId) -> Copy | None:
        return self._links.get((table, link_id.key))

    def forget(self, table: str, link_id: LinkId) -> None:
        self._links.pop((table, link_id.key), None)

    def put(self, table: str, link: Link, now: int) -> None:
        """Keep a copy just read. What the old copy learnt of its counters still holds when the
        link has not changed since (the same life and revision): tickets come only with a change."""
        if self.lifetime <= 0:
            return
        key = (table, link.id.key)
        old = self._links.get(key)
        kept = Copy(now, link)
        if old is not None and old.link.life == link.life and old.link.revision == link.revision:
            kept.empty, kept.used_up = old.empty, old.used_up
        self._links[key] = kept
        self._links.move_to_end(key)
        while len(self._links) > self.size:
            self._links.popitem(last=False)


@kept
@cache
def shared(lifetime: int) -> LinkCache:
    """The cache of this instance, kept across requests."""
    return LinkCache(lifetime)
