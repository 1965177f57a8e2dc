"""Issue 15's simulation: the redirect's own code against the partition-limited stand-in
(partitions.py), on a virtual clock, then the stream through StatsFunction's own aggregation.

What runs for real: `shortlink.links.follow.follow` (its per-instance LinkCache, the choice
between a visit counter and the link's conditional write, the refusals), `visit_facts`, and
StatsFunction's `read_batch`, `Window` and `flush` over the stream records the writes produce.
What is modelled: the store's requests, here `SimLinkStore` / `SimStatsStore` with the same keys,
the same rules and the same read and write units (by item size) as the real requests, each taking
its units from the stand-in's per-key buckets — and the stream (STREAM_SHARDS shards, batches of
BATCH_SIZE every second of virtual time, one-minute windows; a window that could not be written
is tried again, as Lambda does).

Today's design is the same code with VISIT_COUNTERS=0: every visit one conditional UpdateItem of
the link's item (and, for an owned link, of the by_owner index on the owner's key).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import sys
import zlib
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))

from partitions import ATTEMPTS, Outcome, StandIn, arrivals, read_units, run, write_units

from shortlink.clock import SECOND, parse_stamp, stamp, to_seconds
from shortlink.dynamodb import plain, typed
from shortlink.errors import LinkGone, LinkNotFound, PreviewWithheld, ShortLinkError, StoreUnavailable
from shortlink.links.cache import LinkCache
from shortlink.links.counters import COUNTER_IDLE
from shortlink.links.follow import follow, visit_facts
from shortlink.links.identity import LinkId
from shortlink.links.model import Link
from shortlink.links.store import TICKETS, TICKETS_LIFE, LinkStore, Unlock, VisitRefused, from_item, to_item
from shortlink.links.tickets import shares
from shortlink.settings import Settings
from shortlink.stats.record import Salts, flush
from shortlink.stats.store import LIFE_ROW, HourTotals, RowState, StatsStore
from shortlink.stats.stream import read_batch
from shortlink.stats.visitors import Chunk
from shortlink.stats.window import Window

OFFERED, SECONDS = 10_000, 60
WARM_LATENCY = 0.010  # a warm redirect's time in its instance: instances in use = rate x latency
BATCH_SIZE = 4000  # template.yaml: StatsFunction's BatchSize (6 MB of records at most: about 4,000 counter visits)
WINDOW_SECONDS = 60  # template.yaml: StatsFunction's TumblingWindowInSeconds
# A stream has a shard per table partition, and a table taking 10,000 writes a second has at
# least 10 partitions (1,000 write units a second each): each shard is a window of its own.
STREAM_SHARDS = 10
ROW_BYTES = 400  # a stats row's counters, dimensions and numbers, about
ITEM_OVERHEAD = 60  # a visitor item's key, revision and expiry
DOMAIN = "s.example.com"
START = 1_795_000_000  # the virtual clock's epoch second 0
AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50"


def _size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it, near enough: names and values."""
    return len(json.dumps(item, separators=(",", ":")))


@dataclass
class Tables:
    """The stand-in's items, its capacity, the stream and the virtual clock."""

    capacity: StandIn = field(default_factory=StandIn)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # typed, by key (links and counters)
    rows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # stats rows, plain
    visitor_items: dict[tuple[str, str, int], Chunk] = field(default_factory=dict)  # an hour's visitors (stats/visitors.py)
    stream: deque[dict[str, Any]] = field(default_factory=deque)
    at: float = 0.0
    sequence: int = 0
    tickets_left: int = 0  # on the counters of a ticketed link, all told (what a refused visitor could have had)

    sizes: dict[str, int] = field(default_factory=dict)  # measured at a key's first write: its items keep their size

    def write(self, keys: list[str], item: dict[str, Any]) -> None:
        size = self.sizes.get(keys[0]) or self.sizes.setdefault(keys[0], _size(item))
        if not self.capacity.write(keys, write_units(size), self.at):
            raise StoreUnavailable("throttled")

    def read(self, key: str, item: dict[str, Any] | None, consistent: bool = True) -> None:
        if not self.capacity.read(key, read_units(_size(item or {}), consistent=consistent), self.at):
            raise StoreUnavailable("throttled")

    def record(self, key: str, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        self.sequence += 1
        change = {"Keys": {"link_id": {"S": key}}, "NewImage": new, "SequenceNumber": str(self.sequence)}
        if old is not None:
            change["OldImage"] = old
        self.stream.append({"eventName": "MODIFY" if old else "INSERT", "dynamodb": change, "arrived": self.at})


class SimLinkStore(LinkStore):
    """LinkStore's reads and writes the redirect makes, on the stand-in, with DynamoDB's rules."""

    def __init__(self, tables: Tables) -> None:
        super().__init__("LinksTable")
        self.tables = tables

    def get(self, link_id: LinkId, consistent: bool = True) -> Link:
        item = self.tables.items.get(link_id.key)
        self.tables.read(link_id.key, item, consistent)
        if item is None:
            raise LinkNotFound(str(link_id))
        return from_item(item)

    def read_copy(self, link_id: LinkId) -> Link:
        try:
            return self.get(link_id, consistent=False)
        except LinkNotFound:
            return self.get(link_id)

    def visit(self, link_id: LinkId, now: int, facts: dict[str, Any], *, count: bool = True,
              password: Unlock | None = None) -> Link:
        old = self.tables.items[link_id.key]
        link = from_item(old)
        owner = [f"by_owner:{link.owner}"] if link.owner else []  # the index projects ALL
        self.tables.write([link_id.key, *owner], old)  # a refused condition costs its write units too
        if link.state(now) != "active":
            raise VisitRefused(link)
        name = "visits" if count else "bot_visits"
        new = {**old, "last_visit": typed(facts), name: {"N": str(int(plain(old).get(name, 0)) + 1)}}
        self.tables.items[link_id.key] = new
        self.tables.record(link_id.key, old, new)
        return from_item(new)

    def count_visit(self, link: Link, counter: int, now: int, facts: dict[str, Any], *, count: bool = True) -> None:
        key = link.id.counter_key(counter)
        old = self.tables.items.get(key)
        name = "visits" if count else "bot_visits"
        new = {**(old or {"link_id": {"S": key}, "born": {"N": str(to_seconds(now))}}), "last_visit": typed(facts),
               "created_at": {"S": stamp(link.created_at)}, "expires_at": {"N": str(to_seconds(now + COUNTER_IDLE))},
               name: {"N": str(int((old or {}).get(name, {"N": "0"})["N"]) + 1)}}
        self.tables.write([key], new)
        self.tables.items[key] = new
        self.tables.record(key, old, new)

    def claim_ticket(self, link: Link, counter: int, now: int, facts: dict[str, Any]) -> bool:
        key = link.id.counter_key(counter)
        old = self.tables.items.get(key) or {"link_id": {"S": key}}
        self.tables.write([key], old)  # a refused condition costs its write units too
        held = plain(old)
        if held.get(TICKETS_LIFE) != link.life or int(held.get(TICKETS, 0)) <= 0:
            return False
        new = {**old, "last_visit": typed(facts), "created_at": {"S": stamp(link.created_at)},
               "born": old.get("born", {"N": str(to_seconds(now))}), TICKETS: {"N": str(int(held[TICKETS]) - 1)},
               "visits": {"N": str(int(held.get("visits", 0)) + 1)}}
        self.tables.items[key] = new
        self.tables.record(key, old, new)
        self.tables.tickets_left -= 1
        return True


class SimStatsStore(StatsStore):
    """StatsStore's row read and conditional add, and its visitor items, on the stand-in (key:
    the row's link life). A row's size, which its read and write units follow, is its counters;
    a visitor item's, its hashes (17 bytes each while exact) or its 512 bytes of sketch. As
    StatsFunction's instance does, the store remembers the visitor items it wrote or read."""

    def __init__(self, tables: Tables) -> None:
        super().__init__("StatsTable")
        self.tables = tables
        self.known: set[tuple[str, str, int]] = set()  # the items this instance holds a copy of

    def salt(self, day: str, expires_at: int) -> bytes:
        return b"s" * 32

    def progress(self, life: str, hour: str) -> RowState:
        row = self.tables.rows.get((life, hour), {})
        if not self.tables.capacity.read(f"stats:{life}", read_units(ROW_BYTES, consistent=True), self.tables.at):
            raise StoreUnavailable("throttled")
        return RowState(dict(row.get("upto", {})), dict(row.get("bots_upto", {})), set(), row.get("revision", 0), row.get("total", 0))

    def add(self, life: str, hour: str, read: RowState, totals: HourTotals, expires_at: int | None) -> bool:
        row = self.tables.rows.setdefault((life, hour), {"total": 0, "bots": 0, "upto": {}, "bots_upto": {}, "revision": 0})
        if not self.tables.capacity.write([f"stats:{life}"], write_units(ROW_BYTES), self.tables.at):
            raise StoreUnavailable("throttled")
        if row["revision"] != read.revision:
            return False
        row["total"] += totals.total
        row["bots"] += totals.bots
        for mark, last in (("upto", totals.last), ("bots_upto", totals.bots_last)):
            for source, number in last.items():
                row[mark][source] = max(row[mark].get(source, 0), number)
        row["revision"] += 1
        return True

    @staticmethod
    def _item_bytes(chunk: Chunk) -> int:
        return ITEM_OVERHEAD + (len(chunk.registers) if chunk.registers is not None else 17 * len(chunk.exact or ()))

    def add_visitors(self, life: str, hour: str, part: Chunk, expires_at: int) -> None:
        key = (life, hour, part.number)
        chunk = self.tables.visitor_items.setdefault(key, Chunk(part.number))
        if key not in self.known:  # read once, then remembered
            if not self.tables.capacity.read(f"stats:{life}:{hour}:{part.number}", read_units(self._item_bytes(chunk), True), self.tables.at):
                raise StoreUnavailable("throttled")
            self.known.add(key)
        changed = Chunk(part.number, chunk.exact or (), chunk.registers)
        if changed.absorb(part):
            if not self.tables.capacity.write([f"stats:{life}:{hour}:{part.number}"], write_units(self._item_bytes(changed)), self.tables.at):
                raise StoreUnavailable("throttled")
            self.tables.visitor_items[key] = changed


@dataclass
class Scenario:
    name: str
    links: list[str]
    rate_per_link: float
    owner: str | None = "key-1"
    max_visits: int | None = None


def _seed(tables: Tables, scenario: Scenario, counters: int) -> None:
    """The links as a create stores them: a limited one, where links have counters, with its
    tickets on its counters (links/tickets.py)."""
    for code in scenario.links:
        made = parse_stamp("2026-11-27T00:00:00.000Z")
        link = Link(domain=DOMAIN, code=code, url=f"https://example.com/{code}", created_at=made, updated_at=made,
                    owner=scenario.owner, max_visits=scenario.max_visits)
        if counters and scenario.max_visits is not None:
            link = replace(link, ticketed=True, revision="r0")
            for counter, tickets in enumerate(shares(scenario.max_visits, counters)):
                key = link.id.counter_key(counter)
                tables.items[key] = {"link_id": {"S": key}, TICKETS: {"N": str(tickets)}, TICKETS_LIFE: {"S": link.life},
                                     "link_revision": {"S": "r0"}, "fence_life": {"S": link.life}}
                tables.tickets_left += tickets
        tables.items[link.id.key] = to_item(link)


def _drain(tables: Tables, stats: SimStatsStore, until: float) -> int:
    """StatsFunction over the stream as its event source runs it, from the virtual clock's start:
    per shard (an item's records go to its partition's shard), each second, the records that
    arrived by then in batches of BATCH_SIZE, each batch's visits added to the shard's tumbling
    window (template.yaml, TumblingWindowInSeconds), which is written every WINDOW_SECONDS, as
    soon as its state grows past the budget, and when its shard is empty; until `until`.
    Returns the invocations retried."""
    shards: list[deque[dict[str, Any]]] = [deque() for _ in range(STREAM_SHARDS)]
    for record in tables.stream:
        shards[zlib.crc32(record["dynamodb"]["Keys"]["link_id"]["S"].encode()) % STREAM_SHARDS].append(record)
    tables.stream.clear()
    windows, opened = [Window() for _ in shards], [0.0 for _ in shards]
    retried, salts = 0, Salts(stats, UTC)
    tables.at = 0.0
    while (any(shards) or any(w.pending for w in windows)) and tables.at < until:
        tables.at += 1.0
        for number, shard in enumerate(shards):
            window, full = windows[number], False
            while shard and shard[0]["arrived"] < tables.at and not full:
                batch = []
                while shard and len(batch) < BATCH_SIZE and shard[0]["arrived"] < tables.at:
                    batch.append(shard.popleft())
                window.add(read_batch(batch), salts)
                full = window.too_big(window.state())  # written at once, as the handler does
            ended = tables.at - opened[number] >= WINDOW_SECONDS or not shard
            if window.pending and (ended or full):
                unwritten, _ = flush(window, stats, 90, workers=1)  # the virtual clock: one at a time
                if unwritten:  # the final invocation is retried with the same state; rows written are not added twice
                    retried += 1
                    continue
                windows[number] = Window()
                opened[number] = tables.at if ended else opened[number]
    return retried


def simulate(scenario: Scenario, counters: int) -> tuple[Outcome, dict[str, int]]:
    """Offer the scenario's requests to the redirect's code; then drain the stream. Returns the
    outcome and what the statistics and the links' visits hold after the drain."""
    tables = Tables()
    _seed(tables, scenario, counters)
    settings = Settings(links_table="LinksTable", short_domains=(DOMAIN,), default_validity="30d", public_shortening=True,
                        blocked_hosts=(), stats_table="StatsTable", stats_retention_days=90, visit_counters=counters)
    store, stats = SimLinkStore(tables), SimStatsStore(tables)
    instances = [LinkCache(settings.link_cache_seconds * SECOND) for _ in range(max(1, math.ceil(OFFERED * WARM_LATENCY)))]
    facts = visit_facts(AGENT, None, "r", START * SECOND, None, "v" * 16)
    served = {"redirected": 0, "refused": 0, "refused while tickets remained": 0}
    request = 0

    def attempt(code: str, at: float) -> bool:
        nonlocal request
        request += 1
        tables.at = at
        now = int((START + at) * SECOND)
        instance = instances[(request * 2654435761) % len(instances)]  # the load balancer's spread
        try:
            # every visitor a different one: the statistics' rows grow as they would (the dearer case)
            follow(store, settings, DOMAIN, code, now, cache=instance,
                   facts={**facts, "id": str(request), "at": to_seconds(now), "visitor": f"{request:016x}"})
        except StoreUnavailable:
            return False
        except (LinkGone, LinkNotFound, PreviewWithheld):
            served["refused"] += 1  # a 410 after the visit limit: an answer, not an error
            served["refused while tickets remained"] += tables.tickets_left > 0
            return True
        except ShortLinkError:
            raise
        served["redirected"] += 1
        return True

    outcome = run(arrivals(scenario.rate_per_link, scenario.links, SECONDS), attempt)
    redirect_units = (tables.capacity.read_units_used, tables.capacity.write_units_used)
    retried = _drain(tables, stats, until=SECONDS + 600)
    people = {key: int(plain(item).get("visits", 0)) for key, item in tables.items.items() if LinkId.of_counter(key) is None}
    tallies = {life.rpartition("#")[0]: row["total"] for (life, hour), row in tables.rows.items() if hour == LIFE_ROW}
    return outcome, {
        **served,
        "link visits": sum(people[key] + tallies.get(key, 0) for key in people),
        "statistics": sum(row["total"] for (_, hour), row in tables.rows.items() if hour != LIFE_ROW),
        "undrained": len(tables.stream),
        "retried batches": retried,
        # units per million redirects served: the redirect's, then StatsFunction's
        "redirect read units": round(redirect_units[0] * 1e6 / max(1, outcome.served)),
        "redirect write units": round(redirect_units[1] * 1e6 / max(1, outcome.served)),
        "statistics read units": round((tables.capacity.read_units_used - redirect_units[0]) * 1e6 / max(1, outcome.served)),
        "statistics write units": round((tables.capacity.write_units_used - redirect_units[1]) * 1e6 / max(1, outcome.served)),
    }


def _line(scenario: Scenario, outcome: Outcome, held: dict[str, int]) -> str:
    offered = scenario.rate_per_link * len(scenario.links)
    exact = held["link visits"] == held["statistics"] == held["redirected"]
    if scenario.max_visits is not None:
        line = (f"{scenario.name}: offered {offered:.0f}/s for {SECONDS} s, redirected {held['redirected']}, "
                f"refused while tickets remained {held['refused while tickets remained']}, errors {outcome.errors} "
                f"(throttled {outcome.throttled}, answered 410 after the limit {held['refused']})")
    else:
        line = (f"{scenario.name}: offered {offered:.0f}/s for {SECONDS} s, served {outcome.served}, "
                f"throttled {outcome.throttled}, errors {outcome.errors}")
    return (line + f"; after the stream drained: link visits {held['link visits']}, statistics {held['statistics']}"
            f" (= redirected: {exact})")


SCENARIOS = [
    Scenario("hot link", ["hot"], OFFERED),
    Scenario("flash-sale link (max_visits 30,000)", ["limited"], OFFERED, max_visits=30_000),
    Scenario("1,000 links at 10/s, one owner", [f"link{i:04d}" for i in range(1000)], 10),
]


def _run(job: tuple[int, int]) -> tuple[Outcome, dict[str, int]]:
    counters, index = job
    return simulate(SCENARIOS[index], counters)


DESIGNS = ((0, "the first design (VISIT_COUNTERS=0: one conditional write of the link's item per visit)"),
           (Settings.visit_counters, f"this design (a link's copy kept {Settings.link_cache_seconds} s per instance, "
                                     f"{Settings.visit_counters} visit counters per link, a visit limit spread over them as tickets)"))


def simulated() -> dict[tuple[int, int], tuple[Outcome, dict[str, int]]]:
    """Every (design, scenario), two at a time (they take a minute or two each)."""
    jobs = [(counters, index) for counters, _ in DESIGNS for index in range(len(SCENARIOS))]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return dict(zip(jobs, pool.map(_run, jobs, chunksize=1), strict=True))


def report(results: dict[tuple[int, int], tuple[Outcome, dict[str, int]]] | None = None) -> list[str]:
    results = results or simulated()
    lines = []
    for counters, label in DESIGNS:
        lines.append(f"-- {label}")
        lines += ["  " + _line(SCENARIOS[index], *results[(counters, index)]) for index in range(len(SCENARIOS))]
    lines.append(f"  ceilings: a link, limited or not, {Settings.visit_counters} counters x 1,000 writes/s = "
                 f"{Settings.visit_counters * 1000:,} visits/s; a link with a password 1,000 visits/s "
                 f"(one item, whose owner's by_owner key shares it); past it, {ATTEMPTS} refused attempts are a 503")
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
