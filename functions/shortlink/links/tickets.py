"""Tickets: how a link with max_visits takes ten times the visits a second one item can, exactly.

A limited link without a password is *ticketed*: its budget of visits is spread over its visit
counters (links/counters.py) as tickets, each counter holding its share for the link's life. A
visit claims a ticket from a counter picked at random with one conditional UpdateItem (tickets
left, the same life, the copy's revision); a counter with none left is remembered by the
instance and another is tried, so no visitor is turned away while any counter holds a ticket,
and the tickets given never exceed the budget. When every counter is known empty the instance's
copy answers "used up" with no write, until a PATCH gives the link a new revision.

A PATCH moves the budget in the same transaction as its fence: what is left, plus or minus the
change of the limit, is spread again as a new link's budget would be — added to counters that
should hold more, taken from those that should hold less (each on the condition that it still
holds that many).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# A counter takes 1,000 writes a second: a budget spreads over one more per this many tickets (up
# to all of them), so that even a small one is not held to one counter's rate at a launch.
TICKETS_PER_COUNTER = 10


def spread_over(total: int, counters: int) -> int:
    """How many of its counters a budget of `total` tickets is spread over (the first ones)."""
    return min(counters, max(1, -(-total // TICKETS_PER_COUNTER)))


def shares(total: int, counters: int) -> list[int]:
    """`total` tickets over the first spread_over() of `counters` counters, as evenly as whole
    tickets go (the rest get none)."""
    used = spread_over(total, counters)
    base, extra = divmod(max(0, total), used)
    return [base + (1 if n < extra else 0) if n < used else 0 for n in range(counters)]


def claim_order(max_visits: int, counters: int) -> list[int]:
    """The counters a visit tries, in random order: those a budget of `max_visits` is spread
    over, the only ones that can hold its tickets (a PATCH spreads what is left as shares()
    would, and what is left is never more than the limit)."""
    used = spread_over(max_visits, counters)
    return random.sample(range(used), used)


def rebalanced(held: list[int], left: int) -> list[int]:
    """What to add to (or, negative, take from) each counter so that `left` tickets are spread
    as shares() spreads them, given what each holds now."""
    return [want - have for want, have in zip(shares(left, len(held)), held, strict=True)]


@dataclass(frozen=True)
class TicketChange:
    """What a write does to a ticketed link's counters: `fresh` sets each counter's tickets (a
    new link, or one that becomes ticketed); `added` adds to each (negative: takes, on the
    condition that the counter still holds that many)."""

    fresh: list[int] | None = None
    added: list[int] | None = None
