"""StatsTable: visit counters per link life and UTC hour, and the day's visitor salts,
written only by StatsFunction."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..dynamodb import ConditionFailed, call, plain, query_all
from ..errors import StoreUnavailable
from .visitors import Visitors

UPTO, BOTS_UPTO = "upto", "bots_upto"  # + a Visit.source: "" (the link's own item) or "#3"
LIFE_ROW = "life"  # `hour` of a link life's row: the people visits its counters counted (its tally)
SALT_ROW = "#salt"  # link_key of the salt rows (a link life never starts with #); `hour` is the day


@dataclass
class HourTotals:
    """What one hour row gains: counts of the visits not yet added to it."""

    total: int
    last: dict[str, int]  # the highest (human) visit number added, per counting item (aggregate.Visit.source)
    bots: int
    bots_last: dict[str, int]  # the highest bot visit number added, per counting item
    counts: dict[str, Counter[str]]  # by row dimension (platform, app, ..., bot)
    visitors: set[str] = field(default_factory=set)  # salted hashes


@dataclass
class RowState:
    """What an hour row already holds that the next write depends on."""

    upto: dict[str, int] = field(default_factory=dict)  # per counting item
    bots_upto: dict[str, int] = field(default_factory=dict)
    hosts: set[str] = field(default_factory=set)
    visitors: Visitors = field(default_factory=Visitors)
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
    """The visitors an hour row holds (plain values, as `plain` reads them)."""
    return Visitors(row.get("visitors", ()), row.get("sketch"))


class StatsStore:
    """Hourly visit counters of links (StatsTable): one row per (link life, UTC hour).
    The table's key is `link_key` (a link life, aggregate.life_of) and `hour` (2026-11-25T08)."""

    _salts: ClassVar[dict[tuple[str, str], bytes]] = {}  # per container: one request per day
    _salt_lock: ClassVar[threading.Lock] = threading.Lock()  # a batch's rows are written from several threads

    def __init__(self, table: str) -> None:
        self.table = table

    @classmethod
    def forget_salts(cls) -> None:
        """For a table made anew (tests): its salts are not the ones remembered."""
        cls._salts.clear()

    def salt(self, day: str, expires_at: int) -> bytes:
        """The day's random salt, made by whichever call asks first (one UpdateItem, then
        remembered by this container). TTL deletes it at `expires_at`."""
        with self._salt_lock:
            return self._salt(day, expires_at)

    def _salt(self, day: str, expires_at: int) -> bytes:
        cached = self._salts.get((self.table, day))
        if cached is None:
            answer = call(
                "update_item",
                TableName=self.table,
                Key={"link_key": {"S": SALT_ROW}, "hour": {"S": day}},
                UpdateExpression="SET salt = if_not_exists(salt, :salt), expires_at = if_not_exists(expires_at, :exp)",
                ExpressionAttributeValues={":salt": {"B": secrets.token_bytes(32)}, ":exp": {"N": str(expires_at)}},
                ReturnValues="ALL_NEW",
            )
            cached = self._salts[(self.table, day)] = bytes(plain(answer["Attributes"])["salt"])
        return cached

    def progress(self, life: str, hour: str) -> RowState:
        answer = call("get_item", TableName=self.table, Key={"link_key": {"S": life}, "hour": {"S": hour}},
                      ConsistentRead=True)
        row = plain(answer.get("Item", {}))
        return RowState(_numbered(row, UPTO), _numbered(row, BOTS_UPTO), set(row.get("hosts", ())), row_visitors(row),
                        int(row.get("revision", 0)), int(row.get("total", 0)))

    def add(self, life: str, hour: str, read: RowState, totals: HourTotals, expires_at: int | None) -> bool:
        """Add totals to the hour row if nobody wrote it since `read`; False otherwise."""
        names: dict[str, str] = {"#total": "total"}
        values: dict[str, Any] = {
            ":total": {"N": str(totals.total)}, ":bots": {"N": str(totals.bots)}, ":revision": {"N": str(read.revision + 1)},
        }
        if read.revision:
            values[":read"] = {"N": str(read.revision)}
        sets = ["revision = :revision"]
        if expires_at is not None:
            sets.append("expires_at = :exp")
            values[":exp"] = {"N": str(expires_at)}
        for prefix, last, upto in ((UPTO, totals.last, read.upto), (BOTS_UPTO, totals.bots_last, read.bots_upto)):
            for source, number in last.items():
                i = len(names)
                names[f"#u{i}"], values[f":u{i}"] = prefix + source, {"N": str(max(number, upto.get(source, 0)))}
                sets.append(f"#u{i} = :u{i}")
        adds = ["#total :total", "bots :bots"]
        removes = []
        for kind, counts in totals.counts.items():
            for label, n in counts.items():
                i = len(names)
                names[f"#c{i}"], values[f":c{i}"] = f"{kind}:{label}", {"N": str(n)}
                adds.append(f"#c{i} :c{i}")
        hosts = sorted(h for h in totals.counts.get("referrer", ()) if not h.startswith("("))
        if hosts:
            adds.append("hosts :hosts")
            values[":hosts"] = {"SS": hosts}
        merged = Visitors(read.visitors.exact or (), read.visitors.registers)
        merged.add(totals.visitors)
        if merged.registers is not None:
            sets.append("sketch = :sketch")
            values[":sketch"] = {"B": bytes(merged.registers)}
            if read.visitors.exact:
                removes.append("visitors")
        elif totals.visitors:
            adds.append("visitors :visitors")
            values[":visitors"] = {"SS": sorted(totals.visitors)}
        update = "SET " + ", ".join(sets) + " ADD " + ", ".join(adds) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            call(
                "update_item",
                TableName=self.table,
                Key={"link_key": {"S": life}, "hour": {"S": hour}},
                UpdateExpression=update,
                ConditionExpression="revision = :read" if read.revision else "attribute_not_exists(revision)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ConditionFailed:
            return False
        return True

    def tallies(self, lives: list[str]) -> dict[str, int]:
        """The visits counted on the counters of each link life (its life row), by life: one
        BatchGetItem per 100 lives; a life without a row has none."""
        found: dict[str, int] = {}
        for start in range(0, len(lives), 100):
            keys = [{"link_key": {"S": life}, "hour": {"S": LIFE_ROW}} for life in dict.fromkeys(lives[start:start + 100])]
            for _ in range(3):
                if not keys:
                    break
                answer = call("batch_get_item", RequestItems={self.table: {
                    "Keys": keys, "ProjectionExpression": "link_key, #total", "ExpressionAttributeNames": {"#total": "total"}}})
                found.update({row["link_key"]: int(row.get("total", 0)) for row in map(plain, answer["Responses"].get(self.table, []))})
                keys = answer.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
            if keys:
                raise StoreUnavailable("the statistics table left keys unread; retry shortly")
        return found

    def hours(self, life: str, first: str, last: str) -> dict[str, dict[str, Any]]:
        """The rows of one link between two UTC hours (inclusive), by hour."""
        items = query_all(TableName=self.table, KeyConditionExpression="link_key = :k AND #hour BETWEEN :a AND :b",
                          ExpressionAttributeNames={"#hour": "hour"},
                          ExpressionAttributeValues={":k": {"S": life}, ":a": {"S": first}, ":b": {"S": last}})
        return {row["hour"]: row for row in map(plain, items)}
