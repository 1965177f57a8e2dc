"""Writing a stream batch's visits into StatsTable: one read and one conditional write per
(link life, UTC hour) and per life's tally, however many visits the batch holds of it.

Each row remembers, per counting item, the highest visit number it has added, so a replayed
record is recognised and a retried batch never counts twice; and a revision, so rows written
from several stream shards at once never lose an update. Unique visitors are kept as salted
hashes or a sketch (visitors.py); bots are counted apart, by agent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, tzinfo

from ..clock import DAY, HOUR, hour_start, local_date, local_midnight
from ..dynamodb import client
from ..errors import StoreUnavailable
from ..links.model import MILESTONES
from .store import LIFE_ROW, HourTotals, StatsStore
from .stream import Batch, HourVisits, Visit
from .visitors import salted

MAX_REFERRERS_PER_HOUR = 20  # hosts beyond these are added up as "other"
OTHER = "(other)"
STREAM_RETENTION = DAY  # the mapping's MaximumRecordAgeInSeconds: no record of a day comes later
GROUP_WORKERS = 16  # rows written at once: a batch of many links' visits is as many rows

# (life group, milestones reached, visits after, whether its tickets are now all used) -> sent
Announce = Callable[[HourVisits, list[int], int, bool], bool]


def totals_of(visits: list[Visit], salted_visitor: Callable[[Visit], str | None]) -> HourTotals:
    """What a row gains from new visits: people by every dimension, bots by agent."""
    people = [v for v in visits if not v.bot]
    bots = [v for v in visits if v.bot]
    counts = {
        "platform": Counter(v.platform for v in people),
        "app": Counter(v.app for v in people if v.app),
        "referrer": Counter(v.referrer for v in people),
        "country": Counter(v.country for v in people),
        "browser": Counter(v.agent.browser for v in people),
        "os": Counter(v.agent.os for v in people),
        "device": Counter(v.agent.device for v in people),
        "bot": Counter(v.agent.browser for v in bots),
    }
    visitors = {h for h in map(salted_visitor, people) if h}
    return HourTotals(total=len(people), last=highest(people), bots=len(bots), bots_last=highest(bots),
                      counts=counts, visitors=visitors)


def highest(visits: list[Visit]) -> dict[str, int]:
    """The highest visit number per counting item."""
    found: dict[str, int] = {}
    for visit in visits:
        found[visit.source] = max(found.get(visit.source, 0), visit.number)
    return found


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


def record_batch(batch: Batch, store: StatsStore, retention_days: int, zone: tzinfo,
                 announce: Announce | None = None, workers: int = GROUP_WORKERS) -> tuple[list[str], int]:
    """Add each (link, hour) group to its row: one read and one conditional write per group
    (and, once a day per instance, the day's salt); and each life's visits counted on its
    counters to its life row, the same way, announcing the milestones they reach first (before
    the write, so a retried batch repeats the announcement rather than lose it). Rows are
    independent, so `workers` groups are written at once: a batch of 1,000 visits of 1,000
    links is 2,000 rows, which one at a time would not fit the function's timeout.

    Returns the sequence numbers to report as failed (unreadable records, and groups whose
    write failed, which Lambda retries) and how many visits were added to hour rows.
    """
    salts = Salts(store, zone)

    def record(group: HourVisits) -> tuple[list[str], int]:
        try:
            row = store.progress(group.life, group.hour)
            new = group.after(row.upto, row.bots_upto)
            if not new:
                return [], 0  # a replay: every visit here is already counted
            if group.hour == LIFE_ROW:
                totals = HourTotals(total=len(new), last=highest(new), bots=0, bots_last={}, counts={})
                after = row.total + totals.total
                reached = [m for m in MILESTONES if row.total < m <= after]
                used_up = group.exhausted_at is not None and row.total < group.exhausted_at <= after
                if (reached or used_up) and announce is not None and not announce(group, reached, after, used_up):
                    return group.sequence_numbers, 0
                expires = group.expires_at + retention_days * DAY if group.expires_at else None
            else:
                totals = totals_of(new, salts)
                totals.counts["referrer"] = bound_referrers(totals.counts["referrer"], row.hosts)
                expires = retention_expiry(group.hour, group.expires_at, retention_days)
            if not store.add(group.life, group.hour, row, totals, expires):
                return group.sequence_numbers, 0  # the row moved since the read: retry
            return [], totals.total if group.hour != LIFE_ROW else 0
        except StoreUnavailable:
            return group.sequence_numbers, 0

    groups = batch.groups()
    if workers > 1 and len(groups) > 1:
        client()  # made here, once: boto3 must not build it from several threads at once
        with ThreadPoolExecutor(max_workers=min(workers, len(groups))) as pool:
            results = list(pool.map(record, groups))
    else:
        results = [record(group) for group in groups]
    failed = [bad.sequence_number for bad in batch.bad] + [s for group_failed, _ in results for s in group_failed]
    return failed, sum(added for _, added in results)
