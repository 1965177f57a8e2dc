"""stats/query.py and stats/report.py: hourly UTC rows folded into the viewer's time zone, by day or by hour."""

from __future__ import annotations

from typing import Any

import pytest

from shortlink.clock import hour_of, parse_stamp
from shortlink.errors import InvalidInput
from shortlink.http.i18n import MESSAGES
from shortlink.stats.query import stats_range
from shortlink.stats.report import report, report_table
from support import new_link

# 2026-11-25T23:30:00Z: already 2026-11-26 07:30 in Shanghai, still 2026-11-25 18:30 in New York.
LATE = 1_795_649_400_000
ROWS: dict[str, dict[str, Any]] = {
    "2026-11-25T10": {"total": 3, "platform:ios": 3, "country:CN": 2, "country:(unknown)": 1, "visitors": {"a", "b"},
                      "bots": 1, "bot:Googlebot": 1},
    "2026-11-25T23": {"total": 2, "platform:android": 2, "app:wechat": 1, "country:CN": 2, "visitors": {"b", "c"}},
}
LINK = new_link(created_at=parse_stamp("2026-11-20T00:00:00.000Z"))


def _report(tz: str, granularity: str = "day", start: str = "2026-11-24", end: str = "2026-11-27", *,
            include_bots: bool = False) -> dict[str, Any]:
    asked = stats_range(LINK, start, end, LATE, tz, granularity)  # type: ignore[arg-type]
    return report(LINK, asked, granularity, ROWS, include_bots=include_bots)  # type: ignore[arg-type]


def test_rows_are_keyed_by_the_utc_hour() -> None:
    assert hour_of(LATE) == "2026-11-25T23"


@pytest.mark.parametrize("tz, days, visitors", [
    ("UTC", {"2026-11-25": 5}, {"2026-11-25": 3}),
    # the visit at 23:30 UTC counts on the next day; visitor b is then on two days
    ("Asia/Shanghai", {"2026-11-25": 3, "2026-11-26": 2}, {"2026-11-25": 2, "2026-11-26": 2}),
    ("America/New_York", {"2026-11-25": 5}, {"2026-11-25": 3}),
])
def test_days_are_the_viewers_and_totals_do_not_depend_on_the_zone(tz: str, days: dict[str, int],
                                                                   visitors: dict[str, int]) -> None:
    answer = _report(tz)
    assert answer["total"] == 5 and answer["tz"] == tz and "hours" not in answer
    assert {d["day"]: d["visits"] for d in answer["days"] if d["visits"]} == days
    assert {d["day"]: d["visitors"] for d in answer["days"] if d["visitors"]} == visitors
    assert answer["visitors"] == sum(visitors.values())  # visitors are counted per day
    assert [d["day"] for d in answer["days"]] == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    assert answer["platforms"] == {"ios": 3, "android": 2} and answer["apps"] == {"wechat": 1}
    assert answer["countries"] == {"CN": 4, "(unknown)": 1}


def test_hours_are_labelled_in_the_viewers_zone() -> None:
    answer = _report("Asia/Shanghai", "hour", "2026-11-26", "2026-11-26")
    assert len(answer["hours"]) == 24 and answer["hours"][0]["hour"] == "2026-11-26T00:00+08:00"
    assert [h for h in answer["hours"] if h["visits"]] == [{"hour": "2026-11-26T07:00+08:00", "visits": 2, "visitors": 2,
        "platforms": {"android": 2}, "apps": {"wechat": 1}, "referrers": {}, "countries": {"CN": 2},
        "browsers": {}, "os": {}, "devices": {}}]
    assert answer["total"] == 2  # only the local day asked for
    half = _report("Asia/Kolkata", "hour", "2026-11-26", "2026-11-26")  # +05:30: hours start at :30
    assert half["hours"][0]["hour"] == "2026-11-26T00:30+05:30" and len(half["hours"]) == 24


@pytest.mark.parametrize("tz, granularity, start, end, field", [
    ("Mars/Olympus", "day", None, None, "tz"),
    ("../../etc/passwd", "day", None, None, "tz"),
    ("UTC", "hour", "2026-10-01", "2026-11-25", "from"),  # hourly: at most 31 days
    ("UTC", "day", "2026-11-26", "2026-11-25", "from"),
])
def test_bad_ranges_and_zones_are_named(tz: str, granularity: str, start: str | None, end: str | None, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        stats_range(LINK, start, end, LATE, tz, granularity)  # type: ignore[arg-type]
    assert field in {e.field for e in caught.value.errors}


def test_each_day_has_its_own_breakdown_and_the_table_has_a_column_per_value() -> None:
    answer = _report("Asia/Shanghai")
    day = {d["day"]: d for d in answer["days"]}["2026-11-26"]
    assert day["apps"] == {"wechat": 1} and day["countries"] == {"CN": 2} and day["platforms"] == {"android": 2}
    header, rows = report_table(answer)
    assert header == ["day", "visits", "visitors", "platform:ios", "platform:android", "app:wechat", "country:CN",
                      "country:(unknown)"]
    assert rows[1] == ["2026-11-25", 3, 2, 3, 0, 0, 2, 1] and rows[2] == ["2026-11-26", 2, 2, 0, 2, 1, 2, 0]
    assert report_table(answer, MESSAGES["zh-CN"]) == (
        ["日期", "访问次数", "独立访客", "平台:iOS", "平台:安卓", "应用:微信", "国家/地区:CN", "国家/地区:未知"], rows)
    assert report_table(answer, MESSAGES["en"])[0][:6] == ["Day", "Visits", "Unique visitors", "Platform:iOS", "Platform:Android", "App:WeChat"]


def test_bots_are_apart_and_shown_only_when_asked() -> None:
    assert "bots" not in _report("UTC") and "bot_agents" not in _report("UTC")["days"][1]
    answer = _report("UTC", include_bots=True)
    assert answer["total"] == 5 and answer["bots"] == 1 and answer["bot_agents"] == {"Googlebot": 1}
    assert {d["day"]: d["bots"] for d in answer["days"] if d["bots"]} == {"2026-11-25": 1}
    header, rows = report_table(answer)
    assert header[:4] == ["day", "visits", "visitors", "bots"] and header[-1] == "bot:Googlebot"
    assert rows[1][:4] == ["2026-11-25", 5, 3, 1] and rows[1][-1] == 1
