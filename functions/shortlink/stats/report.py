"""Reports: hour rows folded into the viewer's time zone, by day or by hour (every one, zero when
nobody visited), with every dimension and unique visitors; and a report as a table (CSV)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from ..clock import hour_of, local_time
from ..links.model import Link
from .query import Granularity, Range
from .store import row_visitors
from .visitors import Visitors

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


def report(link: Link, asked: Range, granularity: Granularity, rows: dict[str, dict[str, Any]], *,
           include_bots: bool = False) -> dict[str, Any]:
    """Totals and a series in the viewer's zone (every day or hour, zero when nobody visited),
    by every dimension, with unique visitors. The same visits whatever the zone."""
    whole = _Buckets()
    days = asked.days()
    per_day: dict[date, _Buckets] = {day: _Buckets() for day in days}
    per_hour: list[dict[str, Any]] = []
    for hour in asked.utc_hours():
        row = rows.get(hour_of(hour), {})
        local = local_time(hour, asked.zone)
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


def value_name(kind: str, value: str, texts: dict[str, str]) -> str:
    """A dimension's value as a reader of `texts`' language names it (微信 for wechat); values
    without a name (hosts, browsers, country codes) as they are."""
    return texts.get(f"stats.{kind}.{value}") or texts.get(f"stats.{value}") or value


def report_table(answer: dict[str, Any], texts: dict[str, str] | None = None) -> tuple[list[str], list[list[Any]]]:
    """A report as a table: one row per day or hour, one column per dimension value seen. The
    header names its columns (day, visits, platform:android …), or, given a language's
    `texts`, in that language (日期, 访问次数, 平台:安卓 …)."""
    series = answer.get("days") or answer.get("hours") or []
    bucket = "day" if "days" in answer else "hour"
    named = DIMENSIONS | (BOT_DIMENSION if "bots" in answer else {})
    columns = [(kind, name, label) for kind, name in named.items() for label in answer[name]]
    counts = ["visits", "visitors", *(["bots"] if "bots" in answer else [])]
    if texts is None:
        header = [bucket, *counts, *(f"{kind}:{label}" for kind, _, label in columns)]
    else:
        header = [texts[f"csv.{bucket}"], *(texts[f"csv.{c}"] for c in counts),
                  *(f"{texts[f'csv.{kind}']}:{value_name(kind, label, texts)}" for kind, _, label in columns)]
    rows = [[point[bucket], *(point[c] for c in counts), *(point[name].get(label, 0) for _, name, label in columns)]
            for point in series]
    return header, rows
