"""StatsTable: visit counters per link life and UTC hour, each life's tally, and the day's visitor
salts, written only by StatsFunction. Times cross this edge as whole epoch seconds (TTL)."""

from __future__ import annotations

import secrets
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..clock import to_seconds
from ..dynamodb import ConditionFailed, Expression, Update, client, faults, get_many, keys, plain, query_all
from ..errors import StoreUnavailable
from ..instance import kept
from ..links.model import Link
from .visitors import Chunk, Visitors, assembled

UPTO, BOTS_UPTO = "upto", "bots_upto"  # + a Visit.source: "" (the link's own item) or "#3"
LIFE_ROW = "life"  # `hour` of a link life's row: the people visits its counters counted (its tally)
SALT_ROW = "#salt"  # link_key of the salt rows (a link life never starts with #); `hour` is the day
VISITORS_MARK = "#v"  # `hour` of an hour's visitor item: the hour, the mark, the item's number (visitors.py)
CHUNKS_KEY = "visitor_items"  # where `hours` puts an hour's visitor items beside its row
ITEM_ATTEMPTS = 3
KEPT_CHUNKS = 50_000  # visitor items an instance remembers (half a KB each)


@dataclass
class HourTotals:
    """What one row gains: counts of the visits not yet added to it."""

    total: int
    last: dict[str, int]  # the highest (human) visit number added, per counting item (stream.Visit.source)
    bots: int
    bots_last: dict[str, int]  # the highest bot visit number added, per counting item
    counts: dict[str, Counter[str]]  # by row dimension (platform, app, ..., bot)


@dataclass
class RowState:
    """What a row already holds that the next write depends on."""

    upto: dict[str, int] = field(default_factory=dict)  # per counting item
    bots_upto: dict[str, int] = field(default_factory=dict)
    hosts: set[str] = field(default_factory=set)
    revision: int = 0  # rows of one link are written from several stream shards (its counters)
    total: int = 0


def _numbered(row: dict[str, Any], prefix: str) -> dict[str, int]:
    """A row's highest added visit numbers per counting item: `upto` the link's, `upto#3` counter 3's."""
    numbers = {}
    for name, value in row.items():
        base, mark, counter = name.partition("#")
        if base == prefix and (not mark or counter.isdigit()):
            numbers[mark + counter] = int(value)
    return numbers


def row_visitors(row: dict[str, Any]) -> Visitors:
    """An hour's visitors (plain values, as `hours` reads them): those of its visitor items, and
    those a row written before the items existed kept itself."""
    visitors = assembled(_chunk(item) for item in row.get(CHUNKS_KEY, []))
    visitors.merge(Visitors(row.get("visitors", ()), row.get("sketch")))
    return visitors


def _chunk(item: dict[str, Any]) -> Chunk:
    number = int(str(item["hour"]).rpartition(VISITORS_MARK)[2])
    return Chunk(number, item.get("hashes", ()), item.get("sketch"))


@kept
@cache
def _chunks() -> OrderedDict[tuple[str, str, str, int], tuple[int, Chunk]]:
    """The visitor items this instance wrote or read, with their revision: a batch knows what an
    item holds without reading it, and writes it only when its visitors change it."""
    return OrderedDict()


@kept
@cache
def _salts() -> dict[tuple[str, str], bytes]:
    """The salts this instance has read: one request per day."""
    return {}


class StatsStore:
    """Hourly visit counters of links (StatsTable): one row per (link life, UTC hour).
    The table's key is `link_key` (a link life, LinkId.life) and `hour` (2026-11-25T08)."""

    _salt_lock = threading.Lock()  # a batch's rows are written from several threads
    _chunk_lock = threading.Lock()

    def __init__(self, table: str) -> None:
        self.table = table

    def salt(self, day: str, expires_at: int) -> bytes:
        """The day's random salt, made by whichever call asks first (one UpdateItem, then kept by
        this instance). TTL deletes it at `expires_at`."""
        with self._salt_lock:
            known = _salts()
            if (self.table, day) not in known:
                expression = Expression()
                update = Update(expression)
                update.set_to("salt", update.if_absent("salt", secrets.token_bytes(32)))
                update.set_to("expires_at", update.if_absent("expires_at", to_seconds(expires_at)))
                with faults("UpdateItem"):
                    answer = client().update_item(TableName=self.table, Key=keys(("link_key", SALT_ROW), ("hour", day)),
                                                  UpdateExpression=update.text(), ReturnValues="ALL_NEW", **expression.placeholders())
                known[(self.table, day)] = bytes(plain(answer["Attributes"])["salt"])
            return known[(self.table, day)]

    def progress(self, life: str, hour: str) -> RowState:
        with faults("GetItem"):
            answer = client().get_item(TableName=self.table, Key=keys(("link_key", life), ("hour", hour)), ConsistentRead=True)
        row = plain(answer.get("Item", {}))
        return RowState(_numbered(row, UPTO), _numbered(row, BOTS_UPTO), set(row.get("hosts", ())),
                        int(row.get("revision", 0)), int(row.get("total", 0)))

    def add_visitors(self, life: str, hour: str, part: Chunk, expires_at: int) -> None:
        """Take a window's visitors into one of an hour's visitor items (visitors.py): written
        only when they change it, on the condition that nobody else wrote it since (else read
        again)."""
        number = part.number
        key = (self.table, life, hour, number)
        known = _chunks()
        for _ in range(ITEM_ATTEMPTS):
            with self._chunk_lock:  # a batch's items are written from several threads
                kept = known.pop(key, None)
            revision, chunk = kept or self._read_chunk(life, hour, number)
            chunk = Chunk(number, chunk.exact or (), chunk.registers)
            changed = chunk.absorb(part)
            if not changed or self._put_chunk(life, hour, chunk, revision, expires_at):
                with self._chunk_lock:
                    known[key] = (revision + changed, chunk)
                    while len(known) > KEPT_CHUNKS:
                        known.popitem(last=False)
                return
        raise StoreUnavailable("an hour's visitors kept moving; retry shortly")

    def _read_chunk(self, life: str, hour: str, number: int) -> tuple[int, Chunk]:
        with faults("GetItem"):
            answer = client().get_item(TableName=self.table, Key=keys(("link_key", life), ("hour", f"{hour}{VISITORS_MARK}{number}")),
                                       ConsistentRead=True)
        item = plain(answer.get("Item", {}))
        return int(item.get("revision", 0)), Chunk(number, item.get("hashes", ()), item.get("sketch"))

    def _put_chunk(self, life: str, hour: str, chunk: Chunk, revision: int, expires_at: int) -> bool:
        expression = Expression()
        update = Update(expression).set("revision", revision + 1).set("expires_at", to_seconds(expires_at))
        if chunk.registers is not None:
            update.set("sketch", bytes(chunk.registers)).remove("hashes")
        else:
            update.set("hashes", set(chunk.exact or ()))
        unchanged = expression.compare("revision", "=", revision) if revision else expression.absent("revision")
        try:
            with faults("UpdateItem"):
                client().update_item(TableName=self.table, Key=keys(("link_key", life), ("hour", f"{hour}{VISITORS_MARK}{chunk.number}")),
                                     UpdateExpression=update.text(), ConditionExpression=unchanged, **expression.placeholders())
        except ConditionFailed:
            return False
        return True

    def add(self, life: str, hour: str, read: RowState, totals: HourTotals, expires_at: int | None) -> bool:
        """Add totals to the row if nobody wrote it since `read`; False otherwise. The row expires
        at `expires_at` (a moment)."""
        expression = Expression()
        update = Update(expression).set("revision", read.revision + 1).add("total", totals.total).add("bots", totals.bots)
        if expires_at is not None:
            update.set("expires_at", to_seconds(expires_at))
        for prefix, last, upto in ((UPTO, totals.last, read.upto), (BOTS_UPTO, totals.bots_last, read.bots_upto)):
            for source, number in last.items():
                update.set(prefix + source, max(number, upto.get(source, 0)))
        for kind, counts in totals.counts.items():
            for label, n in counts.items():
                update.add(f"{kind}:{label}", n)
        hosts = {h for h in totals.counts.get("referrer", ()) if not h.startswith("(")}
        if hosts:
            update.add("hosts", hosts)
        unchanged = expression.compare("revision", "=", read.revision) if read.revision else expression.absent("revision")
        try:
            with faults("UpdateItem"):
                client().update_item(TableName=self.table, Key=keys(("link_key", life), ("hour", hour)),
                                     UpdateExpression=update.text(), ConditionExpression=unchanged, **expression.placeholders())
        except ConditionFailed:
            return False
        return True

    def tallies(self, lives: list[str]) -> dict[str, int]:
        """The visits counted on the counters of each link life (its life row), by life: one
        BatchGetItem per 100 lives; a life without a row has none."""
        found: dict[str, int] = {}
        unique = list(dict.fromkeys(lives))
        wanted = [keys(("link_key", life), ("hour", LIFE_ROW)) for life in unique]
        rows = get_many(self.table, wanted, projection="link_key, #total", names={"#total": "total"})
        found.update({row["link_key"]: int(row.get("total", 0)) for row in map(plain, rows)})
        return found

    def counted(self, links: list[Link]) -> list[Link]:
        """The links with the visits their counters counted (links/counters.py) added."""
        if not links:
            return links
        tallies = self.tallies([link.life for link in links])
        return [link.with_tally(tallies.get(link.life, 0)) for link in links]

    def tally_of(self, link: Link) -> int:
        """The visits counted on the link's counters in its life."""
        return self.tallies([link.life]).get(link.life, 0)

    def hours(self, life: str, first: str, last: str) -> dict[str, dict[str, Any]]:
        """The rows of one link life between two UTC hours (inclusive), by hour."""
        expression = Expression()
        # up to the last hour's visitor items too ("2026-11-25T08#v7" sorts before "...T08~")
        condition = (f"{expression.compare('link_key', '=', life)} AND {expression.name('hour')} "
                     f"BETWEEN {expression.value(first)} AND {expression.value(last + '~')}")
        rows: dict[str, dict[str, Any]] = {}
        for item in map(plain, query_all(TableName=self.table, KeyConditionExpression=condition, **expression.placeholders())):
            hour, mark, _ = str(item["hour"]).partition(VISITORS_MARK)
            row = rows.setdefault(hour, {"hour": hour})
            if mark:
                row.setdefault(CHUNKS_KEY, []).append(item)
            else:
                row.update(item)
        return rows
