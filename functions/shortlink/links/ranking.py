"""Ranking link lives by visits: the search index's by_visits order (links/catalogue.py), kept by
StatsFunction once it has written a window's rows.

Each life visited in the window is read as a listing shows it (the link's item, with the tally
its counters counted) and its rank raised to those visits: one BatchGetItem of links and one of
tallies per 100 lives, and an UpdateItem per scope of each (its team's or owner's, and the
admins'), once a window (a minute) however many visits it had. Read rather than added up, the
rank is the same however often a window is tried again, and never lower than a rank before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..dynamodb import get_many, keys
from .catalogue import Catalogue
from .model import Link
from .store import LinkStore, from_item


def link_key_of(life: str) -> str:
    """The link a life (LinkId.life) is a life of."""
    return life.rpartition("#")[0]


def rank_visited(lives: Iterable[str], links: LinkStore, counted: Callable[[list[Link]], list[Link]],
                 catalogue: Catalogue, now: int) -> int:
    """Raise the visits rank of these lives to their visits; a life whose link is gone (deleted,
    or removed by TTL) or was made again keeps the rank it had. Returns the postings raised."""
    wanted = set(lives)
    items = get_many(links.table, [keys(("link_id", key)) for key in sorted({link_key_of(life) for life in wanted})])
    current = [link for link in map(from_item, items) if link.life in wanted]
    return sum(catalogue.raise_rank(link, now) for link in counted(current))
