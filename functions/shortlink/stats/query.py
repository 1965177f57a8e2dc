"""What a statistics request asks for: a range of days in a time zone (and the UTC hours that
make them up), checked: every bad field named in one answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import partial
from typing import Literal

from ..clock import HOUR, local_date, local_midnight, zone_named
from ..errors import InvalidInput
from ..links.checks import Checks
from ..links.model import Link

MAX_RANGE_DAYS = 366
MAX_HOURLY_RANGE_DAYS = 31  # an hourly series of at most 744 points
FIRST_YEAR, LAST_YEAR = 2000, 9000  # no link has statistics outside these; bounds keep date arithmetic safe
Granularity = Literal["day", "hour"]


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
    zone = zone_named(name)
    if zone is None:
        raise InvalidInput.single("tz", "must be an IANA time zone such as Asia/Shanghai or UTC")
    return zone


@dataclass(frozen=True)
class Range:
    """The local days asked for, in a time zone, and the UTC hours that make them up."""

    zone: tzinfo
    tz: str
    first: date
    last: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def utc_hours(self) -> list[int]:
        """The start of every UTC hour that starts within the local days (a half-hour zone's hour
        counts where it starts)."""
        start = local_midnight(self.first, self.zone)
        end = local_midnight(self.last + timedelta(days=1), self.zone)
        first_hour = -(-start // HOUR) * HOUR
        return list(range(first_hour, end, HOUR))


def stats_range(link: Link, start: str | None, end: str | None, now: int, tz: str, granularity: Granularity) -> Range:
    """The local days asked for: by default the last 30 days up to today, never before the link."""
    checks = Checks()
    zone = checks.run(partial(parse_zone, tz))
    last = (checks.run(partial(parse_day, "to", end)) if end else None) or (local_date(now, zone) if zone else None)
    first = (checks.run(partial(parse_day, "from", start)) if start else None) or (last - timedelta(days=29) if last else None)
    checks.raise_any()
    assert zone is not None and first is not None and last is not None
    if not start:
        first = max(first, local_date(link.created_at, zone))
    if first > last:
        raise InvalidInput.single("from", "must not be after to")
    limit = MAX_HOURLY_RANGE_DAYS if granularity == "hour" else MAX_RANGE_DAYS
    if (last - first).days >= limit:
        raise InvalidInput.single("from", f"the range may span at most {limit} days by {granularity}")
    return Range(zone, tz, first, last)
