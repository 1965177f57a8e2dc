"""Visit statistics, computed off the hot path from the links table's stream.

A stream MODIFY whose last_visit changed is one visit (the redirect's UpdateItem);
visits of one link on one UTC day are added up and written in one update per
(link, day). Each counted visit carries the link's visit number (stream records of
one item arrive in order), so a day row remembers the highest number it has added:
a replayed record is recognised and skipped, and a retried batch never counts twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from collections.abc import Iterable

from ..dynamodb import plain
from ..errors import InvalidInput, StoreUnavailable
from ..links.model import Link
from ..links.rules import Checks
from ..links.validity import DAY
from .store import DayTotals, StatsStore

MAX_REFERRERS_PER_DAY = 20  # hosts beyond these are added up as "other"
OTHER = "(other)"
DIRECT = "(direct)"  # no Referer header
MAX_RANGE_DAYS = 366


def life_of(link_key: str, created_at: str) -> str:
    """Statistics belong to one life of a code: a re-created alias starts from zero.
    `link_key` is the links table's partition key (LinkId.key)."""
    return f"{link_key}#{created_at}"


def day_of(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Visit:
    number: int  # the link's visit count after this visit
    platform: str
    app: str | None
    referrer: str


@dataclass
class DayVisits:
    """The counted visits of one link on one day within a stream batch."""

    life: str
    day: str
    expires_at: int | None
    visits: list[Visit] = field(default_factory=list)
    sequence_numbers: list[str] = field(default_factory=list)

    def after(self, upto: int) -> DayTotals | None:
        """Totals of the visits numbered above `upto` (those the row has not added yet)."""
        new = [v for v in self.visits if v.number > upto]
        if not new:
            return None
        return DayTotals(
            total=len(new),
            last=max(v.number for v in new),
            platforms=Counter(v.platform for v in new),
            apps=Counter(v.app for v in new if v.app),
            referrers=Counter(v.referrer for v in new),
        )


class BadRecord(Exception):
    """A stream record this function cannot read; reported so it ends in the failure queue."""

    def __init__(self, sequence_number: str, reason: str) -> None:
        super().__init__(reason)
        self.sequence_number = sequence_number


def _image(record: dict[str, Any], name: str) -> dict[str, Any]:
    return plain(record["dynamodb"].get(name) or {})


def is_ttl_removal(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return (record.get("eventName") == "REMOVE" and identity.get("type") == "Service"
            and identity.get("principalId") == "dynamodb.amazonaws.com")


@dataclass
class Batch:
    days: dict[tuple[str, str], DayVisits] = field(default_factory=dict)
    bots: int = 0
    expired_removals: int = 0
    bad: list[BadRecord] = field(default_factory=list)


def read_batch(records: Iterable[dict[str, Any]]) -> Batch:
    """Sort a stream batch into counted visits per (link, day), bot hits and TTL removals."""
    batch = Batch()
    for record in records:
        sequence = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
        try:
            if is_ttl_removal(record):
                batch.expired_removals += 1
                continue
            if record.get("eventName") != "MODIFY":
                continue
            new, old = _image(record, "NewImage"), _image(record, "OldImage")
            facts = new.get("last_visit")
            if not facts or facts == old.get("last_visit"):
                continue  # a change that is not a visit (PATCH, password back-off)
            if facts.get("bot"):
                batch.bots += 1
                continue
            visit = Visit(int(new["visits"]), str(facts.get("platform", "other")),
                          str(facts["app"]) if facts.get("app") else None, str(facts.get("referrer", DIRECT)))
            life, day = life_of(new["link_id"], new["created_at"]), day_of(int(facts["at"]))
            expires = int(new["expires_at"]) if "expires_at" in new else None
            group = batch.days.setdefault((life, day), DayVisits(life, day, expires))
            group.visits.append(visit)
            group.sequence_numbers.append(sequence)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            batch.bad.append(BadRecord(sequence, f"{type(exc).__name__}: {exc}"))
    return batch


def bound_referrers(counts: Counter[str], known: set[str]) -> Counter[str]:
    """Keep at most MAX_REFERRERS_PER_DAY hosts per day row; newcomers past that are 'other'."""
    kept: Counter[str] = Counter()
    room = MAX_REFERRERS_PER_DAY - len(known - {OTHER})
    for host, n in counts.most_common():
        if host in known:
            kept[host] += n
        elif room > 0:
            kept[host] += n
            room -= 1
        else:
            kept[OTHER] += n
    return kept


def retention_expiry(day: str, link_expires_at: int | None, retention_days: int) -> int:
    """A day row lives `retention_days` after its link expires (or after the day, if permanent)."""
    start = int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    return max(start + DAY, link_expires_at or 0) + retention_days * DAY


FIRST_YEAR, LAST_YEAR = 2000, 9000  # no link has statistics outside these; bounds keep date arithmetic safe


def parse_day(field_name: str, text: str) -> datetime:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput.single(field_name, "must be a date like 2026-11-25 (UTC)") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput.single(field_name, f"must be a date between the years {FIRST_YEAR} and {LAST_YEAR}")
    return day


def day_range(link: Link, start: str | None, end: str | None, now: int) -> list[str]:
    """The days asked for: by default the last 30 days up to today, never before the link."""
    checks = Checks()
    last = (checks.run(partial(parse_day, "to", end)) if end else None) or datetime.fromtimestamp(now, tz=UTC)
    first = (checks.run(partial(parse_day, "from", start)) if start else None) or last - timedelta(days=29)
    checks.raise_any()
    created = datetime.strptime(link.created_at[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    first = max(first, created) if not start else first
    if first.date() > last.date():
        raise InvalidInput.single("from", "must not be after to")
    if (last.date() - first.date()).days >= MAX_RANGE_DAYS:
        raise InvalidInput.single("from", f"the range may span at most {MAX_RANGE_DAYS} days")
    return [(first + timedelta(days=i)).strftime("%Y-%m-%d") for i in range((last.date() - first.date()).days + 1)]


def report(link: Link, days: list[str], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Totals, each day (zero when no visits), per platform, in-app browser and referrer host."""
    platforms: Counter[str] = Counter()
    apps: Counter[str] = Counter()
    referrers: Counter[str] = Counter()
    per_day = []
    for day in days:
        row = rows.get(day, {})
        per_day.append({"day": day, "visits": int(row.get("total", 0))})
        for name, value in row.items():
            kind, _, label = name.partition(":")
            target = {"platform": platforms, "app": apps, "referrer": referrers}.get(kind)
            if target is not None and label:
                target[label] += int(value)
    return {
        "code": link.code,
        "domain": link.domain,
        "from": days[0],
        "to": days[-1],
        "total": sum(d["visits"] for d in per_day),
        "days": per_day,
        "platforms": dict(platforms.most_common()),
        "apps": dict(apps.most_common()),
        "referrers": dict(referrers.most_common()),
    }


def record_batch(batch: Batch, store: StatsStore, retention_days: int) -> tuple[list[str], int]:
    """Add each (link, day) group to its row: one read and one conditional write per group.

    Returns the sequence numbers to report as failed (unreadable records, and groups whose
    write failed, which Lambda retries) and how many visits were added.
    """
    failed = [bad.sequence_number for bad in batch.bad]
    added = 0
    for group in batch.days.values():
        try:
            upto, hosts = store.day_progress(group.life, group.day)
            totals = group.after(upto)
            if totals is None:
                continue  # a replay: every visit here is already counted
            referrers = bound_referrers(totals.referrers, hosts)
            expires = retention_expiry(group.day, group.expires_at, retention_days)
            if store.add_day(group.life, group.day, upto, totals, referrers, expires):
                added += totals.total
            else:
                failed.extend(group.sequence_numbers)  # the row moved since the read: retry
        except StoreUnavailable:
            failed.extend(group.sequence_numbers)
    return failed, added
