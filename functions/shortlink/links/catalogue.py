"""The search index (SearchTable): every link life's token lists (links/search.py), kept from
the links table's stream, and the lives that ended.

Items (partition key `list`, sort key `life`):
- a posting: `list` = "<scope>|<token>", `life` = "<created stamp>|<link key>" (so a list reads
  newest first), with the TTL `expires_at` = the life's expiry + StatsRetentionDays (none while
  it is permanent). A scope is "t:<team>" (a team's links), "o:<key id>" (the links of a key of
  no team) or "all" (the admins').
- an ended life (TTL removed it, or its code was made again): its "*" postings carry `ended`,
  the link's item as it last was, and "ended|<link key>" holds the same under the same `life`,
  so that the code's visitors get 410 and its owner reads its final figures until retention ends.
A live life is read from the links table itself, so a listing shows it as it is now.

- a life's place by visits: "<scope>|visits" under the same `life`, with the `*` posting's text,
  the life's other tokens (`tokens`) and `ranked_visits` = "<visits, 12 digits>|<life>", the
  sort key of the by_visits index, which lists a scope's lives by visits (among equals, by
  creation), filtered by text and tokens. The search index's writer (functions/search) makes
  the rank 0 and never touches it again; StatsFunction raises it to the visits it counted
  (links/ranking.py), never lowers it: two writers, each of its own attributes, so this posting
  is updated, never put. Apart from the `*` posting, so that a text search in creation order
  (the usual one) reads no more than before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from ..clock import DAY, parse_stamp, stamp, to_seconds
from ..dynamodb import ConditionFailed, Expression, Item, Update, client, either, every, faults, get_many, keys, typed, write_many
from ..settings import Settings
from .access import Caller
from .identity import LinkId
from .model import Link
from .search import EVERY, searchable, tokens
from .store import GUARD_PREFIX, announced_expiry, from_item

ALL = "all"
_ENDED = "ended"
READ_PAGE = 100  # postings one Query reads: ~100 bytes each, about 1.5 read units
# Lives a text search's Query reads (with their texts, ~175 bytes each), of which its filter
# returns the matches: as many as DynamoDB reads in one request (1 MB), since most are no match.
FILTERED_PAGE = 6000
TEXT = "text"  # on a `*` posting: the life's searchable text (search.searchable)
VISITS = "visits"  # the list of a scope's places by visits (its postings are in the by_visits index)
TOKENS = "tokens"  # on a place by visits: the life's tokens but `*` (a visits order filters by them)
RANKED = "ranked_visits"  # on a place by visits: the by_visits index's sort key (visits_rank)
BY_VISITS = "by_visits"
VISITS_DIGITS = 12

Direction = Literal["newest", "oldest"]


def scopes(link: Link) -> list[str]:
    """The scopes a life is listed in: its team's (or, made by a key of no team, its owner's)
    and the admins'."""
    if link.team is not None:
        return [f"t:{link.team}", ALL]
    return [ALL] if link.owner is None else [f"o:{link.owner}", ALL]


def scope_of(caller: Caller) -> str:
    return ALL if caller.admin else caller.scope


def rank(link: Link) -> str:
    return f"{stamp(link.created_at)}|{link.id.key}"


def visits_rank(visits: int, life: str) -> str:
    """A life's place in a visits order: its visits (zero-padded, so text order is number order),
    then the life itself (among equals, by creation)."""
    return f"{min(visits, 10**VISITS_DIGITS - 1):0{VISITS_DIGITS}d}|{life}"


def life_of_rank(position: str) -> str:
    """The life a visits rank names (ValueError: no rank)."""
    visits, _, life = position.partition("|")
    if len(visits) != VISITS_DIGITS or not visits.isdigit():
        raise ValueError(position)
    return life


def ranked(life: str) -> tuple[int, LinkId]:
    """The creation moment and the link a posting's `life` names."""
    created, _, key = life.partition("|")
    return parse_stamp(created), LinkId.from_key(key)


@dataclass
class Postings:
    """One token list in one scope, read in pages as a walk asks (newest or oldest first)."""

    table: str
    name: str
    direction: Direction
    text: str | None = None  # only lives whose searchable text holds this (a `*` list's filter)
    # Lives read and not yet passed, in order: every life of the list from the last Query's bound
    # on up to the last of them (a walk's bounds only move on); _tail: up to the list's end.
    _buffer: list[str] = field(default_factory=list)
    _tail: bool = False
    _resume: str | None = None  # where the last filtered Query stopped: the lives before it are read

    def _beyond(self, life: str, bound: str, inclusive: bool) -> bool:
        """Whether `life` comes at or after `bound` in the walk's order."""
        if self.direction == "newest":
            return life < bound or (inclusive and life == bound)
        return life > bound or (inclusive and life == bound)

    def seek(self, bound: str | None, *, inclusive: bool) -> str | None:
        """The first life of the list at or after `bound` in the walk's order (None: from the
        start); each bound lies beyond the one before."""
        self._buffer = [life for life in self._buffer if bound is None or self._beyond(life, bound, inclusive)]
        if self._resume is not None and (bound is None or self._beyond(self._resume, bound, True)):
            bound, inclusive = self._resume, False  # not the lives the filter already passed over
        while not self._buffer and not self._tail:
            bound, inclusive = self._read(bound, inclusive)
        return self._buffer[0] if self._buffer else None

    def _read(self, bound: str | None, inclusive: bool) -> tuple[str | None, bool]:
        """One Query from `bound` on: its lives into the buffer; where the next would go on
        (a filtered page may hold none of the lives it read)."""
        expression = Expression()
        condition = expression.compare("list", "=", self.name)
        if bound is not None:
            operator = ("<" if self.direction == "newest" else ">") + ("=" if inclusive else "")
            condition = f"{condition} AND {expression.compare('life', operator, bound)}"
        extra: dict[str, Any] = {}
        if self.text is not None:
            extra["FilterExpression"] = f"contains({expression.name(TEXT)}, {expression.value(self.text)})"
        with faults("Query"):
            answer = client().query(TableName=self.table, KeyConditionExpression=condition,
                                    Limit=FILTERED_PAGE if self.text is not None else READ_PAGE,
                                    ScanIndexForward=self.direction == "oldest", ProjectionExpression=expression.name("life"),
                                    **extra, **expression.placeholders())
        self._buffer = [str(item["life"].get("S")) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        self._tail = last is None
        self._resume = str(last["life"].get("S")) if last else None
        return (self._resume, False) if self._resume else (bound, inclusive)


def walk(lists: list[Postings], after: str | None) -> Iterator[str]:
    """The lives in every one of the lists, in their order, from after `after` on: each list
    seeks to the latest candidate (a leapfrog join), so a rare list leads and a long one is
    read only around its candidates."""
    candidate = lists[0].seek(after, inclusive=False)
    while candidate is not None:
        agreed, turn = 1, 1
        while agreed < len(lists):
            found = lists[turn % len(lists)].seek(candidate, inclusive=True)
            if found is None:
                return
            if found == candidate:
                agreed += 1
            else:
                candidate, agreed = found, 1
            turn += 1
        yield candidate
        candidate = lists[0].seek(candidate, inclusive=False)


@dataclass
class RankedPostings:
    """A scope's places by visits, in the by_visits index: (rank, life), most or fewest first,
    only the lives whose text and tokens hold what a search asks (DynamoDB's filter)."""

    table: str
    name: str
    most_first: bool
    text: str | None
    required: list[str]  # tokens every life listed has (a tag, a domain, a state's list)

    def walk(self, after: str | None) -> Iterator[tuple[str, str]]:
        start = {"list": typed(self.name), "life": typed(life_of_rank(after)), RANKED: typed(after)} if after else None
        expression = Expression()
        condition = expression.compare("list", "=", self.name)
        filters = [f"contains({expression.name(TOKENS)}, {expression.value(token)})" for token in self.required]
        if self.text is not None:
            filters.append(f"contains({expression.name(TEXT)}, {expression.value(self.text)})")
        request: dict[str, Any] = {"FilterExpression": " AND ".join(filters)} if filters else {}
        while True:
            if start:
                request["ExclusiveStartKey"] = start
            with faults("Query"):
                answer = client().query(TableName=self.table, IndexName=BY_VISITS, KeyConditionExpression=condition,
                                        ScanIndexForward=not self.most_first, Limit=FILTERED_PAGE if filters else READ_PAGE,
                                        ProjectionExpression=expression.name(RANKED), **request, **expression.placeholders())
            for item in answer.get("Items", []):
                position = str(item[RANKED].get("S"))
                yield position, life_of_rank(position)
            start = answer.get("LastEvaluatedKey")
            if not start:
                return


def _list_of(item: Item) -> str:
    return str(item["list"].get("S"))


def _key_of(item: Item) -> Item:
    return {"list": item["list"], "life": item["life"]}


def _image(item: Item) -> Link:
    """The link an ended life's item keeps."""
    return from_item(cast("Item", item[_ENDED].get("M")))


def _retained(link: Link, retention_days: int) -> int | None:
    """The TTL of a life's postings (epoch seconds): retention after its expiry; none while permanent."""
    return None if link.expires_at is None else to_seconds(link.expires_at + retention_days * DAY)


def _announced(item: Item, link: Link) -> bool:
    """Whether the sweep announced this life's expiry (its item says so): it is listed as expired."""
    return link.expires_at is not None and announced_expiry(item) == link.expires_at


class Catalogue:
    def __init__(self, table: str, retention_days: int) -> None:
        self.table, self.retention_days = table, retention_days

    @classmethod
    def of(cls, settings: Settings) -> Catalogue:
        return cls(settings.require_search_table(), settings.stats_retention_days)

    # --- kept from the stream (functions/search) -------------------------------------------

    def _postings(self, link: Link, names: set[str], ttl: int | None, extra: Item | None = None) -> list[Item]:
        """The life's postings: on its `*` list with its searchable text (and `extra`), and its
        place by visits with the text and the other tokens."""
        items = []
        text = typed(searchable(link))
        for scope in scopes(link):
            for token in [*sorted(names), VISITS]:
                item: Item = {"list": typed(f"{scope}|{token}"), "life": typed(rank(link))}
                if ttl is not None:
                    item["expires_at"] = typed(ttl)
                if token == EVERY:
                    item.update({TEXT: text, **(extra or {})})
                if token == VISITS:
                    item.update({TEXT: text, TOKENS: {"SS": sorted(names - {EVERY})}})  # never empty: a domain at least
                items.append(item)
        return items

    def changed(self, old_item: Item | None, new_item: Item | None, *, ttl_removed: bool = False) -> int:
        """Bring the index up to date with one stream record of a link's item (old, new image);
        returns the postings written or deleted."""
        old, new = (from_item(old_item) if old_item else None), (from_item(new_item) if new_item else None)
        old_tokens = tokens(old, expired=_announced(old_item, old)) if old and old_item else set()
        new_tokens = tokens(new, expired=_announced(new_item, new)) if new and new_item else set()
        puts: list[Item] = []
        deletes: list[Item] = []
        if old and old_item and (new is None or new.created_at != old.created_at):
            if new is None and not ttl_removed:  # deleted by its owner: gone from every list
                deletes += [_key_of(item) for item in self._postings(old, old_tokens, None)]
            else:  # its life ended (TTL, or its code made again, which only an expired one allows)
                puts += self._ended(old, old_item, old_tokens | {"state:expired"})
            old, old_tokens = None, set()
        if new:
            before = {_list_of(item): item for item in (self._postings(old, old_tokens, _retained(old, self.retention_days))
                                                       if old else [])}
            after = self._postings(new, new_tokens, _retained(new, self.retention_days))
            puts += [item for item in after if before.get(_list_of(item)) != item]  # new, or its TTL or text changed
            gone = before.keys() - {_list_of(item) for item in after}
            deletes += [_key_of(item) for name, item in before.items() if name in gone]
        places = [item for item in puts if _list_of(item).endswith(f"|{VISITS}")]
        write_many(self.table, [item for item in puts if item not in places], deletes)
        for item in places:
            self._update(item)
        return len(puts) + len(deletes)

    def _update(self, posting: Item) -> None:
        """Write a place by visits and remove the TTL it no longer has (its life became
        permanent), leaving its rank as StatsFunction left it (0 when new)."""
        expression = Expression()
        update = Update(expression)
        for name, value in posting.items():
            if name not in ("list", "life"):
                update.set_to(name, expression.stored(value))
        if "expires_at" not in posting:
            update.remove("expires_at")
        update.set_to(RANKED, update.if_absent(RANKED, visits_rank(0, str(posting["life"].get("S")))))
        with faults("UpdateItem"):
            client().update_item(TableName=self.table, Key=_key_of(posting), UpdateExpression=update.text(),
                                 **expression.placeholders())

    def _ended(self, link: Link, item: Item, names: set[str]) -> list[Item]:
        image = {k: v for k, v in item.items() if not k.startswith(GUARD_PREFIX)}  # visitors' back-offs are no figures
        ended: Item = {_ENDED: {"M": image}}
        ttl = _retained(link, self.retention_days)
        pointer: Item = {"list": typed(f"{_ENDED}|{link.id.key}"), "life": typed(rank(link)), **ended}
        if ttl is not None:
            pointer["expires_at"] = typed(ttl)
        return [*self._postings(link, names, ttl, ended), pointer]

    # --- kept by StatsFunction (links/ranking.py) ------------------------------------------

    def raise_rank(self, link: Link, now: int) -> int:
        """Raise the life's visits rank in each of its scopes to `link.visits`, never lowering it
        (windows of several shards may arrive out of order); returns the places raised. A place
        the index's writer has not made yet is made with the rank alone, to live the life's
        retention (a permanent one's: retention from now) unless that writer comes, which it does
        for every link not deleted meanwhile."""
        fallback = _retained(link, self.retention_days) or now + self.retention_days * DAY
        raised = 0
        for scope in scopes(link):
            key = {"list": typed(f"{scope}|{VISITS}"), "life": typed(rank(link))}
            value = visits_rank(link.visits, rank(link))
            raised += self._raise(key, value, None) or self._raise(key, value, fallback)
        return raised

    def _raise(self, key: Item, value: str, made_with_ttl: int | None) -> bool:
        """One place's rank up to `value`: of a place the index made (made_with_ttl None), or of
        one it has not made, made now if need be."""
        expression = Expression()
        update = Update(expression).set(RANKED, value)
        made = expression.absent(TEXT) if made_with_ttl is not None else expression.exists(TEXT)
        if made_with_ttl is not None:
            update.set("expires_at", made_with_ttl)
        condition = every(made, either(expression.absent(RANKED), expression.compare(RANKED, "<", value)))
        try:
            with faults("UpdateItem"):
                client().update_item(TableName=self.table, Key=key, UpdateExpression=update.text(),
                                     ConditionExpression=condition, **expression.placeholders())
        except ConditionFailed:
            return False
        return True

    # --- read by the API ------------------------------------------------------------------

    def lists(self, caller: Caller, names: list[str], direction: Direction, text: str | None = None) -> list[Postings]:
        """The caller's token lists, to walk; `text`: the `*` list keeps only the lives holding it."""
        scope = scope_of(caller)
        return [Postings(self.table, f"{scope}|{name}", direction, text if name == EVERY else None) for name in names]

    def by_visits(self, caller: Caller, required: list[str], *, most_first: bool, text: str | None = None) -> RankedPostings:
        """The caller's lives by visits, holding these tokens and `text`."""
        return RankedPostings(self.table, f"{scope_of(caller)}|{VISITS}", most_first, text, required)

    def ended_lives(self, caller: Caller, lives: list[str]) -> dict[str, Link]:
        """The ended lives among these postings (of the caller's scope), by life."""
        scope = scope_of(caller)
        found = get_many(self.table, [keys(("list", f"{scope}|{EVERY}"), ("life", life)) for life in lives],
                         projection="life, ended")
        return {str(item["life"].get("S")): _image(item) for item in found if _ENDED in item}

    def last_ended(self, link_id: LinkId) -> Link | None:
        """The code's latest ended life, while its retention lasts (one Query)."""
        expression = Expression()
        with faults("Query"):
            answer = client().query(TableName=self.table, KeyConditionExpression=expression.compare(
                "list", "=", f"{_ENDED}|{link_id.key}"), ScanIndexForward=False, Limit=1, **expression.placeholders())
        items = answer.get("Items", [])
        return _image(items[0]) if items else None
