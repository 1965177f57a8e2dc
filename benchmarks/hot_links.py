"""Issue 15's simulation: the redirect's DynamoDB traffic against the partition-limited stand-in
(partitions.py), for today's design and for a model of the proposed one, side by side.

Today: every redirect is one conditional UpdateItem on the link's item (under 1 KB: 1 write unit)
and, for an owned link, the same write lands in the `by_owner` index (projection ALL) on the
owner's partition key.

Proposed (a model: not built yet): each function instance keeps a link for at most 5 s and reads
it again with an eventually consistent GetItem (half a read unit); visits go to an asynchronous
log and one aggregator writes each link's count once a second; `by_owner` projects keys only, so
a visit writes no index. A link with `max_visits` keeps the strict conditional write per visit,
spread over QUOTA_SHARDS items that each hold a share of the remaining visits (a visit takes one
from a shard; an empty shard sends it to the next), so the limit stays exact.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Callable, Iterator

from partitions import Outcome, StandIn, arrivals, read_units, run, write_units

ITEM_BYTES = 900  # a link item with its last visit: under 1 KB
CACHE_SECONDS = 5.0
WARM_LATENCY = 0.010  # a warm redirect's time in its instance: instances in use = rate x latency
QUOTA_SHARDS = 16
OFFERED, SECONDS = 10_000, 60


def todays_design(store: StandIn, owner: str | None) -> Callable[[str, float], bool]:
    units = write_units(ITEM_BYTES)
    return lambda link, at: store.write([f"link:{link}"] + ([f"by_owner:{owner}"] if owner else []), units, at)


class ProposedDesign:
    """Cached reads on the hot path; counts written by an aggregator once a second per link."""

    def __init__(self, store: StandIn, instances: int, quota: bool = False) -> None:
        self.store, self.instances, self.quota = store, instances, quota
        self.cached: dict[tuple[int, str], float] = {}
        self.pending: Counter[str] = Counter()  # visits logged, not yet added to their link
        self.counted: Counter[str] = Counter()
        self.flushed_at = 0.0
        self.request = 0

    def __call__(self, link: str, at: float) -> bool:
        self.flush(at)
        self.request += 1
        if self.quota:  # the promise: one conditional write per visit, on one of the quota's shards
            shard = zlib.crc32(f"{link}{self.request}".encode()) % QUOTA_SHARDS
            if not self.store.write([f"quota:{link}#{shard}"], write_units(200), at):
                return False
        instance = (self.request * 2654435761) % self.instances  # the load balancer's spread
        if at - self.cached.get((instance, link), -math.inf) >= CACHE_SECONDS:
            if not self.store.read(f"link:{link}", read_units(ITEM_BYTES, consistent=False), at):
                return False
            self.cached[(instance, link)] = at
        self.pending[link] += 1  # the visit goes to the log: no DynamoDB request on the hot path
        return True

    def flush(self, at: float) -> None:
        """The aggregator: once a second, one ADD per link with visits pending (retried if refused)."""
        while self.flushed_at + 1.0 <= at:
            self.flushed_at += 1.0
            for link, n in list(self.pending.items()):
                if self.store.write([f"counts:{link}"], write_units(200), self.flushed_at):
                    self.counted[link] += n
                    del self.pending[link]


def scenario(name: str, rate_per_link: float, links: list[str], design: str, owner: str | None = "key-1",
             quota: bool = False) -> str:
    store = StandIn()
    requests: Iterator[tuple[float, str]] = arrivals(rate_per_link, links, SECONDS)
    if design == "today":
        outcome = run(requests, todays_design(store, owner))
        outcome.counted = outcome.served  # the visit count is the write itself
    else:
        proposed = ProposedDesign(store, instances=max(1, math.ceil(rate_per_link * len(links) * WARM_LATENCY)), quota=quota)
        outcome = run(requests, proposed)
        proposed.flush(SECONDS + 60)  # the log drains: a minute after the last visit, every count is written
        outcome.counted = sum(proposed.counted.values())
    return _line(name, rate_per_link * len(links), outcome)


def _line(name: str, offered: float, outcome: Outcome) -> str:
    return (f"{name}: offered {offered:.0f}/s for {SECONDS} s, served {outcome.served}, throttled {outcome.throttled}, "
            f"errors {outcome.errors}; counted {outcome.counted} (= served: {outcome.counted == outcome.served})")


def report() -> list[str]:
    hot = ["hot"]
    ordinary = [f"l{i}" for i in range(1000)]
    lines = []
    for design, label in (("today", "today's design"), ("proposed", "proposed design (model, not built yet)")):
        lines.append(f"-- {label}")
        lines.append("  " + scenario("hot link", OFFERED, hot, design))
        lines.append("  " + scenario("hot link with max_visits", OFFERED, hot, design, quota=True))
        lines.append("  " + scenario("1,000 links at 10/s, one owner", 10, ordinary, design))
        lines.append("  " + scenario("1,000 links at 10/s, made on the page", 10, ordinary, design, owner=None))
    ceiling = QUOTA_SHARDS * 1000
    lines.append(f"  ceiling of a max_visits link: today 1,000 visits/s (one item); proposed {ceiling:,}/s "
                 f"({QUOTA_SHARDS} quota shards x 1,000 write units)")
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
