"""Writing the stream's visits into StatsTable.

Each window (window.py; a batch on its own when the stream brings no window): per (link life, UTC
hour) row, its people's visitors into the hour's visitor items (visitors.py), each written only
when they change it, then one read and one conditional write of the row; and the same read and
write of each life's tally, however many visits the window holds of it.

Each row remembers, per counting item, the highest visit number it has added, so a replayed
record is recognised and a retried window never counts twice; and a revision, so rows written
from several stream shards at once never lose an update (a write that finds the row moved reads
it again). Bots are counted apart, by agent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, tzinfo
from typing import TypeVar

from ..clock import DAY, HOUR, hour_start, local_date, local_midnight
from ..dynamodb import client
from ..errors import StoreUnavailable
from ..links.model import MILESTONES
from .store import LIFE_ROW, HourTotals, RowState, StatsStore
from .stream import Visit
from .visitors import salted
from .window import Numbers, Pending, Window

MAX_REFERRERS_PER_HOUR = 20  # hosts beyond these are added up as "other"
OTHER = "(other)"
STREAM_RETENTION = DAY  # the mapping's MaximumRecordAgeInSeconds: no record of a day comes later
GROUP_WORKERS = 16  # rows written at once: a window of many links' visits is as many rows
ROW_ATTEMPTS = 3  # a row another shard wrote meanwhile is read again, this often

# (life row, milestones reached, visits after, whether its tickets are now all used) -> sent
Announce = Callable[[Pending, list[int], int, bool], bool]
T = TypeVar("T")
R = TypeVar("R")


def bound_referrers(counts: Counter[str], known: set[str]) -> Counter[str]:
    """Keep at most MAX_REFERRERS_PER_HOUR hosts per hour row; newcomers past that are 'other'."""
    kept: Counter[str] = Counter()
    room = MAX_REFERRERS_PER_HOUR - len(known - {OTHER})
    for host, n in counts.most_common():
        if host in known:
            kept[host] += n
        elif room > 0:
            kept[host] += n
            room -= 1
        else:
            kept[OTHER] += n
    return kept


def retention_expiry(hour: str, link_expires_at: int | None, retention_days: int) -> int:
    """An hour row lives `retention_days` after its link expires (or after the hour, if permanent)."""
    return max(hour_start(hour) + HOUR, link_expires_at or 0) + retention_days * DAY


class Salts:
    """The salted visitor hash of a visit: the salt is the one of the visit's day in the stats
    time zone, and lives until the stream can no longer bring visits of that day."""

    def __init__(self, store: StatsStore, zone: tzinfo) -> None:
        self.store, self.zone = store, zone

    def __call__(self, visit: Visit) -> str | None:
        if not visit.visitor:
            return None
        day = local_date(visit.at, self.zone)
        day_ends = local_midnight(day + timedelta(days=1), self.zone)
        return salted(self.store.salt(day.isoformat(), day_ends + STREAM_RETENTION), visit.visitor)


def _each(work: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    """work(item) for every item, `workers` at once: rows are independent."""
    if workers > 1 and len(items) > 1:
        client()  # made here, once: boto3 must not build it from several threads at once
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            return list(pool.map(work, items))
    return [work(item) for item in items]


def _fresh(numbers: Numbers, upto: dict[str, int]) -> tuple[int, dict[str, int]]:
    """How many of the window's visits (spans of numbers per counting item) the row does not
    have yet, and the highest number per item after them."""
    fresh, last = 0, {}
    for source, (first, end, seen) in numbers.items():
        done = upto.get(source, 0)
        fresh += seen if done < first else min(seen, max(0, end - done))
        last[source] = max(end, done)
    return fresh, last


def totals_of(pending: Pending, row: RowState) -> HourTotals | None:
    """What a row gains from a window: its visits the row does not have yet (None: it has them
    all, the window was written before). Should a window overlap what a row holds (records read
    twice across windows), the total stays exact and the dimensions are scaled to it."""
    people, last = _fresh(pending.people, row.upto)
    bots, bots_last = _fresh(pending.robots, row.bots_upto)
    if not people and not bots:
        return None
    counts: dict[str, Counter[str]] = {}
    for name, n in pending.counts.items():
        kind, _, label = name.partition(":")
        share = (bots / pending.bots if pending.bots else 0) if kind == "bot" else (people / pending.total if pending.total else 0)
        kept = n if share == 1 else round(n * share)
        if kept:
            counts.setdefault(kind, Counter())[label] += kept
    if "referrer" in counts:
        counts["referrer"] = bound_referrers(counts["referrer"], row.hosts)
    return HourTotals(total=people, last=last, bots=bots, bots_last=bots_last, counts=counts)


def flush(window: Window, store: StatsStore, retention_days: int, announce: Announce | None = None,
          workers: int = GROUP_WORKERS) -> tuple[list[str], int]:
    """Write each row's visits of the window: an hour's visitors into the items they change,
    then the row: read, add what is new, conditional write (read again when another shard wrote
    it meanwhile). A life row first announces the milestones its tally reaches and a ticketed
    link's last ticket (before the write, so a retried window repeats the announcement rather
    than lose it). Returns the first sequence number of each row that could not be written, and
    how many visits hour rows gained."""

    def write(pending: Pending) -> tuple[list[str], int]:
        try:
            if pending.hour != LIFE_ROW:  # its visitors first: written again harmlessly (a union)
                for part in pending.visitors.parts():
                    store.add_visitors(pending.life, pending.hour, part,
                                       retention_expiry(pending.hour, pending.expires_at, retention_days))
            for _ in range(ROW_ATTEMPTS):
                row = store.progress(pending.life, pending.hour)
                totals = totals_of(pending, row)
                if totals is None:
                    return [], 0  # a replay: the row has every visit of the window
                if pending.hour == LIFE_ROW:
                    after = row.total + totals.total
                    reached = [m for m in MILESTONES if row.total < m <= after]
                    used_up = pending.exhausted_at is not None and row.total < pending.exhausted_at <= after
                    if (reached or used_up) and announce is not None and not announce(pending, reached, after, used_up):
                        return [pending.first], 0
                    expires = pending.expires_at + retention_days * DAY if pending.expires_at else None
                else:
                    expires = retention_expiry(pending.hour, pending.expires_at, retention_days)
                if store.add(pending.life, pending.hour, row, totals, expires):
                    return [], totals.total if pending.hour != LIFE_ROW else 0
        except StoreUnavailable:
            pass
        return [pending.first], 0

    results = _each(write, window.rows(), workers)
    return [s for failed, _ in results for s in failed if s], sum(added for _, added in results)

