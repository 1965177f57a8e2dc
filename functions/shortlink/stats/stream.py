"""Reading the links table's stream: which records are visits, and of which link, life and hour.

A stream record whose last_visit changed is one visit: the redirect's UpdateItem of the link's
own item or of one of its visit counters (links/counters.py). Each visit carries its number on
the item that counted it (the link's visits or bot_visits; a counter's ticket; stream records of
one item arrive in order), so the rows can recognise a visit they already added. Visits are
grouped per (link life, UTC hour), and a counter's people visits also per life (its tally).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..clock import from_seconds, hour_of, parse_stamp
from ..dynamodb import is_ttl_removal, plain
from ..links.counters import ticket
from ..links.identity import LinkId
from .agents import Agent, describe
from .store import LIFE_ROW

DIRECT = "(direct)"  # no Referer header
UNKNOWN_COUNTRY = "(unknown)"  # neither CloudFront-Viewer-Country nor a network the table knows
CountryOf = Callable[[str | None], str | None]  # a visit's network -> its country (stats/countries.py)


@dataclass(frozen=True)
class Visit:
    number: int  # the counting item's visit count after this visit (bot_visits for a bot), or a counter's ticket
    at: int  # when (a moment)
    bot: bool
    platform: str
    app: str | None
    referrer: str
    country: str
    agent: Agent
    visitor: str | None  # the redirect's keyed hash of address and User-Agent
    source: str = ""  # which item counted it: "" the link's own, "#3" its counter 3


@dataclass
class HourVisits:
    """The visits of one link life in one UTC hour (or, with hour LIFE_ROW, the life's visits
    counted on its counters) within a stream batch."""

    life: str
    hour: str
    expires_at: int | None  # the link's expiry (a moment), which the row's retention follows
    link_key: str = ""
    exhausted_at: int | None = None  # a ticketed link's life row: the tally at which its tickets are all used
    visits: list[Visit] = field(default_factory=list)
    sequence_numbers: list[str] = field(default_factory=list)

    def after(self, upto: Mapping[str, int], bots_upto: Mapping[str, int]) -> list[Visit]:
        """The visits a row has not added yet, given the highest numbers it has (people and bots
        are numbered apart)."""
        return [v for v in self.visits if v.number > (bots_upto if v.bot else upto).get(v.source, 0)]


class BadRecord(Exception):
    """A stream record this function cannot read; reported so it ends in the failure queue."""

    def __init__(self, sequence_number: str, reason: str) -> None:
        super().__init__(reason)
        self.sequence_number = sequence_number


@dataclass
class Batch:
    hours: dict[tuple[str, str], HourVisits] = field(default_factory=dict)
    lives: dict[str, HourVisits] = field(default_factory=dict)  # by life: people visits counted on counters
    bots: int = 0
    expired_removals: int = 0
    bad: list[BadRecord] = field(default_factory=list)

    def groups(self) -> list[HourVisits]:
        return [*self.hours.values(), *self.lives.values()]

    def firsts(self) -> list[str]:
        """The first record of every hour's visits: to report them all for a retry."""
        return [s for group in self.hours.values() for s in group.sequence_numbers[:1]]


def first_failed(records: Sequence[Mapping[str, Any]], failed: Iterable[str]) -> int:
    """The position of the first record reported failed (Lambda retries from it), or the count."""
    marked = set(failed)
    return next((i for i, r in enumerate(records) if str(r.get("dynamodb", {}).get("SequenceNumber")) in marked), len(records))


def _image(record: Mapping[str, Any], name: str) -> dict[str, Any]:
    return plain(record["dynamodb"].get(name) or {})


def _visit(facts: Mapping[str, Any], number: int, source: str, country_of: CountryOf) -> Visit:
    """A visit from the facts the redirect recorded: its country from CloudFront's header when
    one came, else from the visitor's network."""
    country = str(facts["country"]) if facts.get("country") else country_of(facts.get("net"))
    return Visit(number, from_seconds(int(facts["at"])), bool(facts.get("bot")),
                 str(facts.get("platform", "other")), str(facts["app"]) if facts.get("app") else None,
                 str(facts.get("referrer", DIRECT)), country or UNKNOWN_COUNTRY,
                 describe(str(facts["ua"]) if facts.get("ua") else None),
                 str(facts["visitor"]) if facts.get("visitor") else None, source)


def _no_table(network: str | None) -> str | None:
    return None


def read_batch(records: Iterable[Mapping[str, Any]], country_of: CountryOf = _no_table) -> Batch:
    """Sort a stream batch into counted visits per (link life, UTC hour), bot hits and TTL removals."""
    batch = Batch()
    for record in records:
        sequence = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
        try:
            if is_ttl_removal(record):
                if not LinkId.of_counter(record["dynamodb"].get("Keys", {}).get("link_id", {}).get("S", "")):
                    batch.expired_removals += 1
                continue
            if record.get("eventName") not in ("INSERT", "MODIFY"):
                continue  # a counter's first visit is its INSERT
            new, old = _image(record, "NewImage"), _image(record, "OldImage")
            facts = new.get("last_visit")
            if not facts or facts == old.get("last_visit"):
                continue  # a change that is not a visit (PATCH, password back-off)
            bot = bool(facts.get("bot"))
            batch.bots += bot
            count = int(new.get("bot_visits" if bot else "visits", 0))
            counter = LinkId.of_counter(new["link_id"])
            if counter is None:  # the link's own item
                link_id, number, source, expires_at = LinkId.from_key(new["link_id"]), count, "", new.get("expires_at")
            else:
                link_id, number, source, expires_at = counter[0], ticket(int(new["born"]), count), f"#{counter[1]}", new.get("link_expires_at")
            visit = _visit(facts, number, source, country_of)
            life = link_id.life(parse_stamp(new["created_at"]))
            expires = from_seconds(int(expires_at)) if expires_at else None
            groups = [batch.hours.setdefault((life, hour_of(visit.at)), HourVisits(life, hour_of(visit.at), expires, link_id.key))]
            if counter is not None and not bot:
                lived = batch.lives.setdefault(life, HourVisits(life, LIFE_ROW, expires, link_id.key))
                lived.exhausted_at = int(new["exhausted_at"]) if "exhausted_at" in new else lived.exhausted_at
                groups.append(lived)
            for group in groups:
                group.visits.append(visit)
                group.sequence_numbers.append(sequence)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            batch.bad.append(BadRecord(sequence, f"{type(exc).__name__}: {exc}"))
    return batch
