"""Listing links: one owner's (an operator's: every link), newest or oldest first or by visits,
found by text, tag, domain and state, in pages with an opaque cursor.

The lives come from the search index (links/catalogue.py): in creation order, the token lists a
search names are walked together; by visits, the by_visits index of the caller's places by
visits, filtered by text and tokens. Each life found is read as it is now (a live link from the links table; an
ended one from the index), its visits counted, and kept when it really matches. A page ends
when it is full or the lives are; so a page is empty only when nothing more matches.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from ..dynamodb import get_many, keys
from ..errors import InvalidInput, NotStored
from .access import Caller
from .catalogue import Catalogue, Direction, life_of_rank, rank, ranked, walk
from .identity import LinkId
from .model import Link
from .search import Search
from .store import LinkStore, from_item

MAX_LIMIT = 100
# A page stops early, with a cursor, after examining this many lives per link it holds (a rare
# match among a million lives is found on later pages instead of one long request).
EXAMINED_PER_LINK = 50


@dataclass
class Page:
    links: list[Link]
    cursor: str | None  # where the next page starts; None: nothing more matches


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, search: Search) -> str:
    """A cursor holds a position inside the caller's own listing only (a life; by visits, its
    rank): the owner is never part of it, so no cursor can lead into another owner's links."""
    try:
        position = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        life = life_of_rank(position) if search.by_visits else position
        ranked(life)  # a life the index could hold
        if "/" not in life:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput.single("cursor", "is not a cursor this API returned for this sort") from None
    return position


def _positions(catalogue: Catalogue, caller: Caller, search: Search, after: str | None) -> Iterator[tuple[str, str]]:
    """(position, life) of every candidate in the listing's order, from after `after` on."""
    if search.by_visits:
        return catalogue.by_visits(caller, search.required(), most_first=search.sort == "-visits", text=search.text).walk(after)
    direction: Direction = "oldest" if search.sort == "created" else "newest"
    return ((life, life) for life in walk(catalogue.lists(caller, search.lists(), direction, search.text), after))


def _read(links: LinkStore, catalogue: Catalogue, caller: Caller, lives: list[str]) -> list[tuple[str, Link]]:
    """The lives as they are now, in order: live ones from the links table (one BatchGetItem per
    100), ended ones from the index; a life deleted meanwhile is skipped."""
    wanted = dict.fromkeys(ranked(life)[1].key for life in lives)
    live = {link.id.key: link for link in map(from_item, get_many(links.table, [keys(("link_id", key)) for key in wanted]))}
    current = {life: live[key] for life in lives if (key := ranked(life)[1].key) in live and rank(live[key]) == life}
    ended = catalogue.ended_lives(caller, [life for life in lives if life not in current]) if len(current) < len(lives) else {}
    return [(life, link) for life in lives if (link := current.get(life) or ended.get(life)) is not None and caller.may_see(link)]


def list_links(links: LinkStore, catalogue: Catalogue, counted: Callable[[list[Link]], list[Link]], caller: Caller,
               search: Search, *, limit: int, cursor: str | None, now: int) -> Page:
    positions = _positions(catalogue, caller, search, decode_cursor(cursor, search) if cursor else None)
    page: list[Link] = []
    examined, last = 0, None
    for chunk in _chunks(positions, limit):
        at = {life: position for position, life in chunk}
        for life, link in zip(*_unzip(_read(links, catalogue, caller, list(at)), counted), strict=True):
            last = at[life]
            if search.matches(link, now):
                page.append(link)
                if len(page) == limit:
                    break
        examined += len(chunk)
        if len(page) == limit:
            break
        last = chunk[-1][0]
        if page and examined >= EXAMINED_PER_LINK * limit:
            break
    else:
        last = None  # the lists ended: no more pages
    return Page(page, encode_cursor(last) if last else None)


def _chunks(positions: Iterator[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    while chunk := list(islice(positions, size)):
        yield chunk


def _unzip(found: list[tuple[str, Link]], counted: Callable[[list[Link]], list[Link]]) -> tuple[list[str], list[Link]]:
    return [life for life, _ in found], counted([link for _, link in found])


def read_owned(links: LinkStore, catalogue: Catalogue, link_id: LinkId, caller: Caller) -> Link:
    """The link the caller may read: the code's live link, else its latest ended life while
    retention keeps it (TTL deleted the item; catalogue.py)."""
    try:
        return links.get_owned(link_id, caller)
    except NotStored:
        ended = catalogue.last_ended(link_id)
        if ended is None or not caller.may_see(ended):
            raise
        return ended
