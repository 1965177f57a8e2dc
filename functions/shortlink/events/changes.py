"""Which link events a stream record of the links table means.

INSERT is link.created; a MODIFY that records a visit on the link's own item (a link with
max_visits or a password) may be link.exhausted (max_visits reached) or link.milestone (visits
reach 100, 1,000, 10,000 ...) — the milestones of visits counted on a link's counters come from
its life row (events/batch.py, milestones_of); a MODIFY that sets
expired_notice is link.expired (the sweep, links/expiry.py); any other MODIFY that changes what
the API shows is link.updated; REMOVE is link.deleted, or, when TTL removes a link whose expiry
nobody announced yet, a late link.expired. Password back-offs and bot visits are no event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..clock import from_seconds, iso
from ..dynamodb import is_ttl_removal, plain
from ..links.identity import LinkId
from ..links.model import MILESTONES, Link
from ..links.store import announced_expiry, from_item
from ..settings import Settings

# What changes with every visit or guess, not with the link's settings; and who changed it last,
# which a delete writes first (links/store.py) and is no change of its own.
_VOLATILE = ("visits", "state", "updated_by")


# The events a key's request caused: their `actor` is the key that made the change (the link's
# updated_by: a create, PATCH or delete writes it); the others are the service's own.
_BY_A_KEY = ("link.created", "link.updated", "link.deleted")


@dataclass(frozen=True)
class LinkEvent:
    kind: str  # the EventBridge detail-type: link.created, ...
    event_id: str  # the stream record's eventID plus the kind: a receiver may drop repeats by it
    sequence_number: str  # of the stream record it came from
    at: int  # when the change happened (a moment)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def time(self) -> str:
        return iso(self.at) or ""


def events_of(record: dict[str, Any], settings: Settings) -> list[LinkEvent]:
    """The events one stream record means (most records mean none: they are visits)."""
    change = record.get("dynamodb") or {}
    name = record.get("eventName")
    new_item, old_item = change.get("NewImage") or {}, change.get("OldImage") or {}
    at = from_seconds(int(change.get("ApproximateCreationDateTime") or 0))
    key = (new_item or old_item).get("link_id", {}).get("S", "")
    if LinkId.of_counter(key):
        return []  # a visit counter (links/counters.py): its visits are announced from the life row
    found: list[tuple[str, Link, dict[str, Any]]] = []
    if name == "INSERT":
        found.append(("link.created", from_item(new_item), {}))
    elif name == "REMOVE":
        old = from_item(old_item)
        if not is_ttl_removal(record):
            found.append(("link.deleted", old, {}))
        elif old.expires_at is not None and announced_expiry(old_item) != old.expires_at:
            found.append(("link.expired", old, {}))  # the sweep missed it: late, but not lost
    elif name == "MODIFY":
        new, old = from_item(new_item), from_item(old_item)
        if plain(new_item).get("last_visit") != plain(old_item).get("last_visit") and new.visits != old.visits:
            if new.max_visits is not None and old.visits < new.max_visits <= new.visits:
                found.append(("link.exhausted", new, {}))
            found += [("link.milestone", new, {"milestone": m}) for m in MILESTONES if old.visits < m <= new.visits]
        elif announced_expiry(new_item) != announced_expiry(old_item) and announced_expiry(new_item):
            found.append(("link.expired", new, {}))
        elif _settings(new, at, settings) != _settings(old, at, settings):
            found.append(("link.updated", new, {}))
    record_id = str(record.get("eventID", ""))
    sequence = str(change.get("SequenceNumber", ""))
    return [LinkEvent(kind, f"{record_id}:{kind}:{extra.get('milestone', '')}".rstrip(":"), sequence, at,
                      {"link": link.to_body(max(at, link.expires_at or 0) if kind == "link.expired" else at, settings),
                       "owner": link.owner, "actor": link.updated_by if kind in _BY_A_KEY else None, **extra})
            for kind, link, extra in found]


def _settings(link: Link, now: int, settings: Settings) -> dict[str, Any]:
    body = link.to_body(now, settings)
    return {k: v for k, v in body.items() if k not in _VOLATILE}
