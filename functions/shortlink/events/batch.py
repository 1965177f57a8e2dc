"""The events of one stream batch, sent in order, so that a retried batch repeats as few as it can."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import LinkNotFound
from ..links.identity import LinkId
from ..links.store import LinkStore
from ..settings import Settings
from ..stats.stream import first_failed
from ..stats.window import Pending
from .bus import publish
from .changes import LinkEvent, events_of

logger = logging.getLogger(__name__)


def announce(records: Sequence[dict[str, Any]], failed: Sequence[str], settings: Settings) -> tuple[list[str], int]:
    """Send the events of the records before the first failed one (Lambda retries from there,
    and would send them again). Returns the sequence numbers to report failed as well (from the
    first event not sent on) and how many events were sent."""
    stop = first_failed(records, failed)
    events: list[LinkEvent] = []
    for record in records[:stop]:
        try:
            events += events_of(record, settings)
        except (KeyError, TypeError, ValueError) as exc:  # read by the statistics too: it failed there as well
            logger.error("no events from an unreadable record: %s", exc)
    sent = publish(events)
    if sent < len(events):
        return [events[sent].sequence_number], sent
    return [], sent


def milestones_of(links: LinkStore, settings: Settings) -> Callable[[Pending, list[int], int, bool], bool]:
    """Announces the milestones a link's counted-on-counters visits reach, and that a ticketed
    link's tickets are all used (stats/record.py): the link is read for the event's body; the
    event id is the same on every retry."""

    def send(row: Pending, reached: list[int], tally: int, used_up: bool) -> bool:
        try:
            link = links.get(LinkId.from_key(row.link_key))
        except LinkNotFound:
            return True  # deleted meanwhile: nobody to tell
        if link.life != row.life:
            return True  # the code lives again: these visits were another's
        body = link.with_tally(tally).to_body(row.at, settings)
        events = [LinkEvent("link.milestone", f"{row.life}:link.milestone:{m}", row.sequence, row.at,
                            {"link": body, "owner": link.owner, "actor": None, "milestone": m}) for m in reached]
        if used_up:
            events.append(LinkEvent("link.exhausted", f"{row.life}:link.exhausted", row.sequence, row.at,
                                    {"link": body, "owner": link.owner, "actor": None}))
        return publish(events) == len(events)

    return send
