"""The events of one stream batch, sent in order, so that a retried batch repeats as few as it can."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .bus import publish
from .changes import LinkEvent, events_of

logger = logging.getLogger(__name__)


def announce(records: Sequence[dict[str, Any]], failed: Sequence[str]) -> tuple[list[str], int]:
    """Send the events of the records before the first failed one (Lambda retries from there,
    and would send them again). Returns the sequence numbers to report failed as well (from the
    first event not sent on) and how many events were sent."""
    stop = next((i for i, r in enumerate(records) if str(r.get("dynamodb", {}).get("SequenceNumber")) in set(failed)),
                len(records))
    events: list[LinkEvent] = []
    for record in records[:stop]:
        try:
            events += events_of(record)
        except (KeyError, TypeError, ValueError) as exc:  # read by the statistics too: it failed there as well
            logger.error("no events from an unreadable record: %s", exc)
    sent = publish(events)
    if sent < len(events):
        return [events[sent].sequence_number], sent
    return [], sent
