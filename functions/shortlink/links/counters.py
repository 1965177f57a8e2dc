"""Visit counters: where a link without a visit limit counts its visits, so that one link can
take more visits a second than one item can (DynamoDB serves one key at most 1,000 write units a
second).

Such a link is followed from a copy kept a few seconds (links/cache.py), and its visit is one
UpdateItem on one of `VISIT_COUNTERS` counter items picked at random (key `<link key>#<n>`).
The stream carries each counter's writes to StatsFunction like the link's own, which adds them
to the hour rows and to the link life's row in StatsTable (its tally, which every link body adds
to `visits`: Link.with_tally) — never to the link's item, so the by_owner index is not written
per visit either. A link with max_visits or a password is counted on its own item in the one
conditional write that checks its rules: that promise keeps one item's ceiling.

A counter's visits are numbered by tickets (born, count): TTL removes a counter COUNTER_IDLE after
its last visit, and one born again numbers on above every ticket it gave before, so the rows
recognise a replayed record by its ticket alone.
"""

from __future__ import annotations

import random

from ..clock import DAY

# Longer than the stream keeps a record (a day): a counter's records are read before it goes.
COUNTER_IDLE = 2 * DAY
_TICKET_SPAN = 10**12  # counts within one life of a counter


def ticket(born: int, count: int) -> int:
    """A counter's visit number, rising across the counter's lives (`born`: the epoch second
    its life began, as the counter keeps it)."""
    return born * _TICKET_SPAN + count


def pick(counters: int) -> int:
    """The counter this visit writes: spread evenly, so a hot link's writes share out."""
    return random.randrange(counters)
