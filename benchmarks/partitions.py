"""A DynamoDB stand-in that enforces the published per-partition-key limits, on a virtual clock,
so that 10,000 requests a second for a minute can be offered on two cores (issue 15).

Published limits (DynamoDB developer guide, "partitions" and "burst and adaptive capacity"): one
partition key — so one item — serves at most 1,000 write units and 3,000 read units a second,
whatever the table's mode. A write unit is up to 1 KB written; a strongly consistent read unit up
to 4 KB read (half a unit when eventually consistent). A request beyond the key's rate is refused
with ProvisionedThroughputExceededException (on-demand tables: ThrottlingException); botocore's
standard retry mode tries it again after a jittered back-off, and the redirect's client gives up
after 2 attempts (shortlink.dynamodb.CLIENT_CONFIG) and answers 503.

An index write goes to its own partition key (by_owner: the owner), with the same limit; when the
index cannot take it, the base write is refused too (index back-pressure).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

WRITE_UNITS_PER_KEY = 1000.0
READ_UNITS_PER_KEY = 3000.0
RETRY_BACKOFF = (0.0, 0.05)  # botocore standard mode: random up to 50 ms for the first retry
ATTEMPTS = 2


def write_units(size_bytes: int) -> float:
    return float(math.ceil(size_bytes / 1024))


def read_units(size_bytes: int, consistent: bool) -> float:
    return math.ceil(size_bytes / 4096) * (1.0 if consistent else 0.5)


@dataclass
class Bucket:
    """One key's capacity: refilled continuously at `rate` a second, holding at most a second's worth."""

    rate: float
    tokens: float = 0.0
    at: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = self.rate

    def take(self, units: float, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= units:
            self.tokens -= units
            return True
        return False


@dataclass
class StandIn:
    """Per-key read and write capacity; counts what it served and refused."""

    writes: dict[str, Bucket] = field(default_factory=dict)
    reads: dict[str, Bucket] = field(default_factory=dict)
    refused: int = 0
    write_units_used: float = 0.0
    read_units_used: float = 0.0

    def write(self, keys: list[str], units: float, now: float) -> bool:
        """A write touching `keys` (the item's key, then its index keys): all or nothing."""
        buckets = [self.writes.setdefault(k, Bucket(WRITE_UNITS_PER_KEY, at=now)) for k in keys]
        for bucket in buckets:  # refill first, so a refusal takes nothing from any of them
            bucket.take(0.0, now)
        if any(b.tokens < units for b in buckets):
            self.refused += 1
            return False
        for bucket in buckets:
            bucket.tokens -= units
        self.write_units_used += units * len(buckets)
        return True

    def read(self, key: str, units: float, now: float) -> bool:
        if self.reads.setdefault(key, Bucket(READ_UNITS_PER_KEY, at=now)).take(units, now):
            self.read_units_used += units
            return True
        self.refused += 1
        return False


@dataclass
class Outcome:
    offered: int = 0
    served: int = 0
    throttled: int = 0  # attempts the stand-in refused
    errors: int = 0  # requests that failed every attempt: a 503 to the visitor
    counted: int = 0  # visits the statistics hold once everything has drained


def arrivals(rate_per_key: float, keys: list[str], seconds: float, seed: int = 7) -> Iterator[tuple[float, str]]:
    """Requests in time order: each key at `rate_per_key` a second, evenly spaced with a jitter."""
    rng = random.Random(seed)
    gap = 1.0 / rate_per_key
    events = [(rng.random() * gap, key) for key in keys]
    heapq.heapify(events)
    while events:
        at, key = heapq.heappop(events)
        if at >= seconds:
            continue
        yield at, key
        heapq.heappush(events, (at + gap * (0.5 + rng.random()), key))


def run(requests: Iterator[tuple[float, str]], attempt: Callable[[str, float], bool], seed: int = 11) -> Outcome:
    """Offer the requests; a refused attempt is retried after a jittered back-off, up to ATTEMPTS."""
    rng = random.Random(seed)
    outcome = Outcome()
    retries: list[tuple[float, int, str, int]] = []
    counter = 0

    def settle(until: float) -> None:
        nonlocal counter
        while retries and retries[0][0] <= until:
            at, _, key, tries = heapq.heappop(retries)
            serve(at, key, tries)

    def serve(at: float, key: str, tries: int) -> None:
        nonlocal counter
        if attempt(key, at):
            outcome.served += 1
            return
        outcome.throttled += 1
        if tries + 1 >= ATTEMPTS:
            outcome.errors += 1
            return
        counter += 1
        heapq.heappush(retries, (at + rng.uniform(*RETRY_BACKOFF), counter, key, tries + 1))

    for at, key in requests:
        settle(at)
        outcome.offered += 1
        serve(at, key, 0)
    settle(math.inf)
    return outcome
