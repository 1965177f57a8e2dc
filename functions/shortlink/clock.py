"""Time in the core has one form: an int of epoch milliseconds (`now`, a visit's `at`, a link's
`expires_at` …), and durations are ints of milliseconds (SECOND … DAY). The conversions live
here and run at the edges only: whole seconds for what DynamoDB keeps as numbers (its TTL reads
seconds), ISO 8601 text for bodies and for the times stored as text, and dates in a time zone
for reports.

Lambda reads the wall clock; tests, benchmarks and the devserver move it (`use`), so that expiry
and back-off can be shown without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
HOUR_KEY = "%Y-%m-%dT%H"  # how a UTC hour is named in keys (stats rows, expiry slots): 2026-11-25T08

_source: Callable[[], float] = time.time  # epoch seconds, as time.time gives them
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def now() -> int:
    """Epoch milliseconds: the `now` every core function takes."""
    return int(_source() * SECOND)


def use(source: Callable[[], float]) -> None:
    """Read time from `source` (epoch seconds, like time.time) from now on; time.time restores
    the wall clock."""
    global _source
    _source = source


def to_seconds(moment: int) -> int:
    """A moment as DynamoDB keeps it (TTL attributes and stored times are whole epoch seconds):
    the second it falls in."""
    return moment // SECOND


def from_seconds(seconds: int | float) -> int:
    """A stored or received epoch-seconds number as a moment."""
    return int(seconds * SECOND)


def utc(moment: int) -> datetime:
    """A moment as an aware UTC datetime (for an API that takes one)."""
    return _EPOCH + timedelta(milliseconds=moment)


def _moment(when: datetime) -> int:
    """An aware datetime as a moment, exactly (whole milliseconds, no float in between)."""
    return (when - _EPOCH) // _MILLISECOND


def iso(moment: int | None) -> str | None:
    """A moment as the bodies show it: ISO 8601 UTC to the second (2026-11-25T08:00:00Z)."""
    return None if moment is None else utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(moment: int) -> str:
    """A moment as stored text (created_at, updated_at): ISO 8601 UTC to the millisecond, so
    listings sort by it and it reads back exactly (parse_stamp)."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_stamp(text: str) -> int:
    """The moment a stored stamp names (the inverse of stamp)."""
    return _moment(datetime.fromisoformat(text.replace("Z", "+00:00")))


def parse_iso(text: str) -> int | None:
    """The moment an ISO 8601 time with an explicit offset names (Z or +08:00); None when the
    text is no such time (or falls outside the years 1 to 9999 once its offset is applied)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            return None
        return _moment(moment.astimezone(UTC))  # astimezone raises past the years 1 and 9999
    except (ValueError, OverflowError):
        return None


def hour_of(moment: int) -> str:
    """The UTC hour a moment falls in, as the keys name it."""
    return utc(moment).strftime(HOUR_KEY)


def hour_start(hour: str) -> int:
    """The moment a UTC hour named by hour_of starts."""
    return _moment(datetime.strptime(hour, HOUR_KEY).replace(tzinfo=UTC))


def local_time(moment: int, zone: tzinfo) -> datetime:
    """A moment as the wall clock of a time zone shows it (for reports' days and labels)."""
    return utc(moment).astimezone(zone)


def local_date(moment: int, zone: tzinfo) -> date:
    """The day a moment falls on in a time zone."""
    return local_time(moment, zone).date()


def local_midnight(day: date, zone: tzinfo) -> int:
    """The moment a day starts in a time zone."""
    return _moment(datetime(day.year, day.month, day.day, tzinfo=zone))


def zone_named(name: str) -> tzinfo | None:
    """The IANA time zone of that name (Asia/Shanghai, UTC); None for a name that is none:
    unknown, malformed, or a directory of zones ("Asia", which the database reads as OSError)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
