"""Visit statistics, computed off the hot path from the links table's stream.

A stream record whose last_visit changed is one visit: the redirect's UpdateItem of the link's
own item or of one of its visit counters (links/counters.py). Visits of one link in one UTC hour
are added up and written in one update per (link, hour), and reports fold those hours into the
viewer's time zone, by day or by hour. Each visit carries its number on the item that counted it
(the link's visits or bot_visits; a counter's ticket; stream records of one item arrive in
order), so an hour row remembers, per item, the highest numbers it has added: a replayed record
is recognised and skipped, and a retried batch never counts twice. A counter's people visits are
also added to the life's row (LIFE_ROW), remembered the same way: the link's `visits` adds
them (Link.with_tally), and their milestones are announced from there. Unique visitors are
kept as salted hashes or a sketch (visitors.py); bots are counted apart, by agent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..dynamodb import dynamodb_client, is_ttl_removal, plain
from ..errors import InvalidInput, StoreUnavailable
from ..links.counters import ticket
from ..links.identity import LinkId
from ..links.model import MILESTONES, Link
from ..links.rules import Checks
from ..links.validity import DAY, HOUR, HOUR_KEY, hour_of
from .agents import Agent, describe
from .store import LIFE_ROW, HourTotals, RowState, StatsStore, row_visitors
from .visitors import Visitors, salted

MAX_REFERRERS_PER_HOUR = 20  # hosts beyond these are added up as "other"
OTHER = "(other)"
DIRECT = "(direct)"  # no Referer header
UNKNOWN_COUNTRY = "(unknown)"  # no CloudFront-Viewer-Country (no CloudFront in front of the stack)
MAX_RANGE_DAYS = 366
MAX_HOURLY_RANGE_DAYS = 31  # an hourly series of at most 744 points
Granularity = Literal["day", "hour"]


def life_of(link_key: str, created_at: str) -> str:
    """Statistics belong to one life of a code: a re-created alias starts from zero.
    `link_key` is the links table's partition key (LinkId.key)."""
    return f"{link_key}#{created_at}"


def counted(links: list[Link], store: StatsStore) -> list[Link]:
    """The links with the visits their counters counted (links/counters.py) added: one
    BatchGetItem of their life rows per 100 links."""
    if not links:
        return links
    tallies = store.tallies([life_key(link) for link in links])
    return [link.with_tally(tallies.get(life_key(link), 0)) for link in links]


def tally_of(link: Link, store: StatsStore) -> int:
    """The visits counted on the link's counters in its life."""
    return store.tallies([life_key(link)]).get(life_key(link), 0)


def life_key(link: Link) -> str:
    return life_of(link.id.key, link.created_at)


def hour_key(moment: datetime) -> str:
    """The stats row of the UTC hour a moment falls in."""
    return moment.astimezone(UTC).strftime(HOUR_KEY)


@dataclass(frozen=True)
class Visit:
    number: int  # the counting item's visit count after this visit (bot_visits for a bot), or a counter's ticket
    at: int
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
    """The visits of one link in one UTC hour within a stream batch."""

    life: str
    hour: str  # or LIFE_ROW: the life's counted-on-counters visits
    expires_at: int | None
    link_key: str = ""
    visits: list[Visit] = field(default_factory=list)
    sequence_numbers: list[str] = field(default_factory=list)

    def after(self, row: RowState) -> list[Visit]:
        """The visits the row has not added yet (people and bots are numbered apart)."""
        return [v for v in self.visits if v.number > (row.bots_upto if v.bot else row.upto).get(v.source, 0)]


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
    return HourTotals(total=len(people), last=_highest(people), bots=len(bots), bots_last=_highest(bots),
                      counts=counts, visitors=visitors)


def _highest(visits: list[Visit]) -> dict[str, int]:
    """The highest visit number per counting item."""
    highest: dict[str, int] = {}
    for visit in visits:
        highest[visit.source] = max(highest.get(visit.source, 0), visit.number)
    return highest


class BadRecord(Exception):
    """A stream record this function cannot read; reported so it ends in the failure queue."""

    def __init__(self, sequence_number: str, reason: str) -> None:
        super().__init__(reason)
        self.sequence_number = sequence_number


def _image(record: dict[str, Any], name: str) -> dict[str, Any]:
    return plain(record["dynamodb"].get(name) or {})


@dataclass
class Batch:
    hours: dict[tuple[str, str], HourVisits] = field(default_factory=dict)
    lives: dict[str, HourVisits] = field(default_factory=dict)  # by life: people visits counted on counters
    bots: int = 0
    expired_removals: int = 0
    bad: list[BadRecord] = field(default_factory=list)


def read_batch(records: Iterable[dict[str, Any]]) -> Batch:
    """Sort a stream batch into counted visits per (link, UTC hour), bot hits and TTL removals."""
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
            if bot:
                batch.bots += 1
            count = int(new.get("bot_visits" if bot else "visits", 0))
            counter = LinkId.of_counter(new["link_id"])
            if counter is None:
                link_key, source, number, expires_at = new["link_id"], "", count, new.get("expires_at")
            else:
                link_key, source, expires_at = counter[0].key, f"#{counter[1]}", new.get("link_expires_at")
                number = ticket(int(new["born"]), count)
            visit = Visit(number, int(facts["at"]), bot,
                          str(facts.get("platform", "other")), str(facts["app"]) if facts.get("app") else None,
                          str(facts.get("referrer", DIRECT)), str(facts.get("country", UNKNOWN_COUNTRY)),
                          describe(str(facts["ua"]) if facts.get("ua") else None),
                          str(facts["visitor"]) if facts.get("visitor") else None, source)
            life, hour = life_of(link_key, new["created_at"]), hour_of(int(facts["at"]))
            expires = int(expires_at) if expires_at else None
            groups = [batch.hours.setdefault((life, hour), HourVisits(life, hour, expires, link_key))]
            if counter is not None and not bot:
                groups.append(batch.lives.setdefault(life, HourVisits(life, LIFE_ROW, expires, link_key)))
            for group in groups:
                group.visits.append(visit)
                group.sequence_numbers.append(sequence)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            batch.bad.append(BadRecord(sequence, f"{type(exc).__name__}: {exc}"))
    return batch


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
    start = int(datetime.strptime(hour, HOUR_KEY).replace(tzinfo=UTC).timestamp())
    return max(start + HOUR, link_expires_at or 0) + retention_days * DAY


FIRST_YEAR, LAST_YEAR = 2000, 9000  # no link has statistics outside these; bounds keep date arithmetic safe


def parse_day(field_name: str, text: str) -> date:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput.single(field_name, "must be a date like 2026-11-25 (in the time zone asked for)") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput.single(field_name, f"must be a date between the years {FIRST_YEAR} and {LAST_YEAR}")
    return day


def parse_zone(name: str) -> tzinfo:
    """An IANA time zone (Asia/Shanghai, Europe/Berlin, UTC)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.single("tz", "must be an IANA time zone such as Asia/Shanghai or UTC") from None


@dataclass(frozen=True)
class Range:
    """The local days asked for, in a time zone, and the UTC hours that make them up."""

    zone: tzinfo
    tz: str
    first: date
    last: date

    def utc_hours(self) -> list[datetime]:
        """Every UTC hour that starts within the local days (a half-hour zone's hour counts
        where it starts)."""
        start = _local_midnight(self.first, self.zone).astimezone(UTC)
        end = _local_midnight(self.last + timedelta(days=1), self.zone).astimezone(UTC)
        first_hour = start.replace(minute=0, second=0) + (timedelta(hours=1) if start.minute else timedelta())
        count = -(-int((end - first_hour).total_seconds()) // HOUR)  # hours that start before the end
        return [first_hour + timedelta(hours=i) for i in range(count)]


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def stats_range(link: Link, start: str | None, end: str | None, now: int, tz: str,
                granularity: Granularity) -> Range:
    """The local days asked for: by default the last 30 days up to today, never before the link."""
    checks = Checks()
    zone = checks.run(partial(parse_zone, tz))
    today = datetime.fromtimestamp(now, tz=zone or UTC).date()
    last = (checks.run(partial(parse_day, "to", end)) if end else None) or today
    first = (checks.run(partial(parse_day, "from", start)) if start else None) or last - timedelta(days=29)
    checks.raise_any()
    assert zone is not None
    created = datetime.strptime(link.created_at[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).astimezone(zone).date()
    first = max(first, created) if not start else first
    if first > last:
        raise InvalidInput.single("from", "must not be after to")
    limit = MAX_HOURLY_RANGE_DAYS if granularity == "hour" else MAX_RANGE_DAYS
    if (last - first).days >= limit:
        raise InvalidInput.single("from", f"the range may span at most {limit} days by {granularity}")
    return Range(zone, tz, first, last)


def report(link: Link, asked: Range, granularity: Granularity, rows: dict[str, dict[str, Any]], *,
           include_bots: bool = False) -> dict[str, Any]:
    """Totals and a series in the viewer's zone (every day or hour, zero when nobody visited),
    by every dimension, with unique visitors. The same visits whatever the zone."""
    whole = _Buckets()
    days = [asked.first + timedelta(days=i) for i in range((asked.last - asked.first).days + 1)]
    per_day: dict[date, _Buckets] = {day: _Buckets() for day in days}
    per_hour: list[dict[str, Any]] = []
    for hour in asked.utc_hours():
        row = rows.get(hour_key(hour), {})
        local = hour.astimezone(asked.zone)
        this_hour = _Buckets()
        for counts in (whole, per_day[local.date()], this_hour):
            counts.add(row)
        per_hour.append({"hour": local.isoformat(timespec="minutes"), **this_hour.as_body(include_bots)})
    answer: dict[str, Any] = {
        "code": link.code,
        "domain": link.domain,
        "from": asked.first.isoformat(),
        "to": asked.last.isoformat(),
        "tz": asked.tz,
        "granularity": granularity,
        "total": whole.visits,
    }
    if granularity == "hour":
        answer["hours"] = per_hour
    else:
        answer["days"] = [{"day": day.isoformat(), **per_day[day].as_body(include_bots)} for day in days]
    totals = whole.as_body(include_bots)
    del totals["visits"]
    # A visitor is counted once a day: the range's figure adds up its days.
    totals["visitors"] = sum(per_day[day].visitors.count() for day in days)
    return {**answer, **totals}


# Row attribute kind -> the report's name for its counts.
DIMENSIONS = {"platform": "platforms", "app": "apps", "referrer": "referrers", "country": "countries",
              "browser": "browsers", "os": "os", "device": "devices"}
BOT_DIMENSION = {"bot": "bot_agents"}  # which bots (ua-parser families), with include_bots


class _Buckets:
    """Visits, unique visitors and counts by dimension, added up over some hour rows."""

    def __init__(self) -> None:
        self.visits = 0
        self.bots = 0
        self.visitors = Visitors()
        self.counts: dict[str, Counter[str]] = {name: Counter() for name in (DIMENSIONS | BOT_DIMENSION).values()}

    def add(self, row: dict[str, Any]) -> None:
        self.visits += int(row.get("total", 0))
        self.bots += int(row.get("bots", 0))
        self.visitors.merge(row_visitors(row))
        named = DIMENSIONS | BOT_DIMENSION
        for name, value in row.items():
            kind, _, label = name.partition(":")
            if kind in named and label:
                self.counts[named[kind]][label] += int(value)

    def as_body(self, include_bots: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"visits": self.visits, "visitors": self.visitors.count()}
        body |= {name: dict(self.counts[name].most_common()) for name in DIMENSIONS.values()}
        if include_bots:
            body |= {"bots": self.bots, "bot_agents": dict(self.counts["bot_agents"].most_common())}
        return body


def report_table(answer: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """A report as a table: one row per day or hour, one column per dimension value seen."""
    series = answer.get("days") or answer.get("hours") or []
    bucket = "day" if "days" in answer else "hour"
    named = DIMENSIONS | (BOT_DIMENSION if "bots" in answer else {})
    columns = [(kind, name, label) for kind, name in named.items() for label in answer[name]]
    counts = ["visits", "visitors", *(["bots"] if "bots" in answer else [])]
    header = [bucket, *counts, *(f"{kind}:{label}" for kind, _, label in columns)]
    rows = [[point[bucket], *(point[c] for c in counts), *(point[name].get(label, 0) for _, name, label in columns)]
            for point in series]
    return header, rows


STREAM_RETENTION = DAY  # the mapping's MaximumRecordAgeInSeconds: no record of a day comes later


class Salts:
    """The salted visitor hash of a visit: the salt is the one of the visit's day in the stats
    time zone, and lives until the stream can no longer bring visits of that day."""

    def __init__(self, store: StatsStore, zone: tzinfo) -> None:
        self.store, self.zone = store, zone

    def __call__(self, visit: Visit) -> str | None:
        if not visit.visitor:
            return None
        day = datetime.fromtimestamp(visit.at, tz=self.zone).date()
        day_ends = int(_local_midnight(day + timedelta(days=1), self.zone).timestamp())
        return salted(self.store.salt(day.isoformat(), day_ends + STREAM_RETENTION), visit.visitor)


Announce = Callable[[HourVisits, list[int], int], bool]  # (life group, milestones, visits after) -> sent


GROUP_WORKERS = 16  # rows written at once: a batch of many links' visits is as many rows


def record_batch(batch: Batch, store: StatsStore, retention_days: int, zone: tzinfo,
                 announce: Announce | None = None, workers: int = GROUP_WORKERS) -> tuple[list[str], int]:
    """Add each (link, hour) group to its row: one read and one conditional write per group
    (and, once a day per container, the day's salt); and each life's visits counted on its
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
            new = group.after(row)
            if not new:
                return [], 0  # a replay: every visit here is already counted
            if group.hour == LIFE_ROW:
                totals = HourTotals(total=len(new), last=_highest(new), bots=0, bots_last={}, counts={})
                reached = [m for m in MILESTONES if row.total < m <= row.total + totals.total]
                if reached and announce is not None and not announce(group, reached, row.total + totals.total):
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

    groups = [*batch.hours.values(), *batch.lives.values()]
    if workers > 1 and len(groups) > 1:
        dynamodb_client()  # made here, once: boto3 must not build it from several threads at once
        with ThreadPoolExecutor(max_workers=min(workers, len(groups))) as pool:
            results = list(pool.map(record, groups))
    else:
        results = [record(group) for group in groups]
    failed = [bad.sequence_number for bad in batch.bad] + [s for group_failed, _ in results for s in group_failed]
    return failed, sum(added for _, added in results)
