"""Telling owners a link expired within minutes of `expires_at`, not when TTL deletes it (days).

A link with an expiry carries `expiry_slot` (its expiry's UTC hour and one of EXPIRY_SHARDS
shards), the key of the sparse `by_expiry` index (sort key `expires_at`, keys only). Every
minute the sweep asks the current and the previous hour's slots for links whose time has
come, and marks each one in a conditional write (`expired_notice`, and the slot removed, so it
leaves the index): the stream carries the mark to StatsFunction, which sends `link.expired`.
A link the sweep missed for more than an hour is announced when TTL removes it.

Cost per million expiring links (on-demand list price, $0.625 per million write units): the
index entry written with the link (1), the mark (1 for an item under 1 KB) and the entry's
removal (1): about $1.90, plus queries of a few hundred bytes and one short invocation a minute
(about $0.50 a month whatever the number of links). EventBridge Scheduler would cost $1.00 per
million one-time schedules, but every create, PATCH of the expiry and delete would make a
second call to another service, which could fail after the link is stored; here those stay
one conditional write each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Protocol

from ..clock import HOUR, hour_of
from ..errors import StoreUnavailable
from .identity import LinkId

EXPIRY_SHARDS = 4  # links expiring in one hour spread over four index keys (writes per key stay low)


def expiry_slot(link_id: LinkId, expires_at: int) -> str:
    """The by_expiry index key of a link: 2026-11-27T08#3."""
    shard = int.from_bytes(hashlib.sha256(link_id.key.encode("utf-8", "surrogatepass")).digest()[:2], "big") % EXPIRY_SHARDS
    return f"{hour_of(expires_at)}#{shard}"


def slots_to_sweep(now: int) -> Iterator[str]:
    for hour in (hour_of(now - HOUR), hour_of(now)):
        yield from (f"{hour}#{shard}" for shard in range(EXPIRY_SHARDS))


class ExpiryIndex(Protocol):
    """What the sweep needs of the links table (LinkStore provides it)."""

    def due(self, slot: str, now: int) -> list[tuple[LinkId, int]]: ...

    def mark_expired(self, link_id: LinkId, expires_at: int, now: int) -> bool: ...


def sweep(index: ExpiryIndex, now: int) -> tuple[int, int]:
    """Mark every link whose expiry has come: (marked, failed). A link PATCHed or deleted
    since the index was read is left alone (its condition fails)."""
    marked = failed = 0
    for slot in slots_to_sweep(now):
        try:
            for link_id, expires_at in index.due(slot, now):
                marked += index.mark_expired(link_id, expires_at, now)
        except StoreUnavailable:
            failed += 1  # the next minute's sweep asks again
    return marked, failed
