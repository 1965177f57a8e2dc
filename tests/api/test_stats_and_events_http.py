"""Issue 13 end to end on its own devserver: 40 visits from 12 visitors across a UTC midnight,
read in two time zones by day and by hour; link events delivered to a webhook exactly once."""

from __future__ import annotations

import io
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas
import pytest
import requests

from shortlink.api.schemas import LinkEvent
from support import Devserver, Webhook, eventually

pytestmark = pytest.mark.devserver

# (User-Agent, browser as ua-parser names it, in-app browser)
AGENTS = [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
     "Mobile/15E148 Safari/604.1", "Mobile Safari", None),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN", "WeChat Browser", "wechat"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
     "Safari/537.36", "Chrome Mobile", None),
    ("Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Version/4.0 Chrome/109.0.5414.86 MQQBrowser/6.2 TBS/047205 Mobile Safari/537.36 QQ/8.9.28.10155 NetType/WIFI",
     "QQ Browser Mobile", "qq"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     "Chrome", None),
]
COUNTRIES = ["CN", "US", "JP", "DE"]
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
# Visitor i: its own address, agent i % 5, country i % 4. Visit j is by visitor j % 12.
VISITORS = [(f"203.0.113.{i + 1}", AGENTS[i % 5], COUNTRIES[i % 4]) for i in range(12)]


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, webhook: Webhook) -> Iterator[Devserver]:
    """A devserver of its own (its clock moves across midnight), sweeping every second."""
    server = Devserver(tmp_path_factory.mktemp("midnight"), EVENT_WEBHOOK_URL=webhook.url,
                       TTL_SWEEP_INTERVAL="1", TTL_SWEEP_LAG="60").start()
    yield server
    server.stop()


def _move_to(dev: Devserver, moment: datetime) -> None:
    dev.advance_clock(moment.timestamp() - dev.now())


def test_forty_visits_of_twelve_visitors_across_midnight_in_two_time_zones(dev: Devserver) -> None:
    api = requests.Session()
    api.headers["x-api-key"] = dev.api_key
    today = datetime.fromtimestamp(dev.now(), tz=UTC).date()
    before_midnight = datetime(today.year, today.month, today.day, 23, 40, tzinfo=UTC)
    if before_midnight.timestamp() < dev.now():
        before_midnight += timedelta(days=1)
    _move_to(dev, before_midnight)
    code = "mid-" + uuid.uuid4().hex[:8]
    assert api.post(f"{dev.url}/api/links", json={"url": "https://example.com/night", "alias": code}).status_code == 201

    def visit(j: int) -> None:
        address, (agent, _, _), country = VISITORS[j % 12]
        answer = requests.get(f"{dev.url}/{code}", allow_redirects=False, headers={
            "User-Agent": agent, "X-Forwarded-For": address, "CloudFront-Viewer-Country": country})
        assert answer.status_code == 302

    for j in range(20):
        visit(j)
    requests.get(f"{dev.url}/{code}", headers={"User-Agent": BOT}, allow_redirects=False)
    _move_to(dev, before_midnight + timedelta(minutes=30))  # 00:10 UTC the next day
    for j in range(20, 40):
        visit(j)
    requests.get(f"{dev.url}/{code}", headers={"User-Agent": BOT}, allow_redirects=False)

    first, second = before_midnight.date(), before_midnight.date() + timedelta(days=1)

    def stats(**params: str) -> dict[str, Any]:
        answer = api.get(f"{dev.url}/api/links/{code}/stats", params={"from": str(first), "to": str(second), **params})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    eventually(lambda: stats(tz="UTC")["total"] == 40)
    by_visit = [VISITORS[j % 12] for j in range(40)]
    expected = {
        "countries": Counter(country for _, _, country in by_visit),
        "browsers": Counter(browser for _, (_, browser, _), _ in by_visit),
        "apps": Counter(app for _, (_, _, app), _ in by_visit if app),
    }
    assert len(expected["countries"]) == 4 and len(expected["browsers"]) == 5 and len(expected["apps"]) == 2

    for tz, days, hours in (
        ("UTC", {str(first): (20, 12), str(second): (20, 12)}, {f"{first}T23:00+00:00": 20, f"{second}T00:00+00:00": 20}),
        # 23:40 and 00:10 UTC are 07:40 and 08:10 of the same day in Shanghai
        ("Asia/Shanghai", {str(second): (40, 12)}, {f"{second}T07:00+08:00": 20, f"{second}T08:00+08:00": 20}),
    ):
        daily = stats(tz=tz)
        assert daily["total"] == 40 and daily["tz"] == tz
        assert {d["day"]: (d["visits"], d["visitors"]) for d in daily["days"] if d["visits"]} == days
        assert daily["visitors"] == sum(v for _, v in days.values())
        for name, counts in expected.items():
            assert daily[name] == dict(counts), (tz, name)
        assert daily["platforms"] == {"ios": 20, "android": 14, "windows": 6}  # agents 0-1, 2-3 and 4
        assert daily["devices"] == {"mobile": 34, "desktop": 6} and daily["os"] == {"iOS": 20, "Android": 14, "Windows": 6}
        hourly = stats(tz=tz, granularity="hour")
        assert {h["hour"]: h["visits"] for h in hourly["hours"] if h["visits"]} == hours
        assert hourly["total"] == 40 and all(h["visitors"] == 12 for h in hourly["hours"] if h["visits"])
        for name in expected:  # every dimension of the hours adds up to the day's
            summed: Counter[str] = Counter()
            for hour in hourly["hours"]:
                summed.update(hour[name])
            assert summed == expected[name], (tz, name)
    with_bots = stats(tz="UTC", include_bots="true")
    assert with_bots["total"] == 40 and with_bots["bots"] == 2 and with_bots["bot_agents"] == {"Googlebot": 2}

    sheet = pandas.read_csv(io.BytesIO(api.get(f"{dev.url}/api/links/{code}/stats", params={
        "from": str(first), "to": str(second), "tz": "Asia/Shanghai", "format": "csv"}).content), encoding="utf-8-sig")
    assert list(sheet["day"]) == [str(first), str(second)] and list(sheet["visits"]) == [0, 40]
    assert list(sheet["visitors"]) == [0, 12] and int(sheet["app:wechat"].sum()) == expected["apps"]["wechat"]


def test_a_webhook_gets_created_exhausted_and_expired_exactly_once(dev: Devserver, webhook: Webhook) -> None:
    api = requests.Session()
    api.headers["x-api-key"] = dev.api_key
    limited, brief = ("hook-" + uuid.uuid4().hex[:8] for _ in range(2))
    assert api.post(f"{dev.url}/api/links", json={"url": "https://example.com/2", "alias": limited, "max_visits": 2,
                                                  "title": "限量"}).status_code == 201
    soon = datetime.fromtimestamp(dev.now() + 120, tz=UTC).isoformat()
    assert api.post(f"{dev.url}/api/links", json={"url": "https://example.com/b", "alias": brief, "expires_at": soon}).status_code == 201
    for expected in (302, 302, 410):
        assert requests.get(f"{dev.url}/{limited}", allow_redirects=False).status_code == expected
    eventually(lambda: webhook.of(limited) == {"link.created": 1, "link.exhausted": 1})

    dev.advance_clock(125)  # past the expiry, well before TTL (60 s late) deletes it
    swept = time.monotonic()
    eventually(lambda: webhook.of(brief)["link.expired"] == 1, seconds=10)
    assert time.monotonic() - swept < 5  # within a few sweep intervals (1 s here, a minute on AWS)
    assert api.get(f"{dev.url}/api/links/{brief}").json()["state"] == "expired"
    dev.advance_clock(120)  # now TTL deletes it: no second link.expired
    gone = {"link_id": {"S": f"{api.get(f'{dev.url}/api/links/{brief}').json()['domain']}/{brief}"}}
    eventually(lambda: "Item" not in dev.dynamodb.get_item(TableName="LinksTable", Key=gone))
    dev.drain()  # the deletion's stream record has reached StatsFunction, which sends no second event
    assert api.get(f"{dev.url}/api/links/{brief}").json()["state"] == "expired"  # an ended life stays readable
    assert webhook.of(brief) == {"link.created": 1, "link.expired": 1}
    assert webhook.of(limited) == {"link.created": 1, "link.exhausted": 1}
    for delivered in webhook.received:  # every post is the LinkEvent the OpenAPI document's webhooks describe
        LinkEvent.model_validate(delivered)
    event = next(e for e in webhook.received if e["detail-type"] == "link.exhausted")
    assert event["source"] == "shortlink" and event["detail"]["owner"] and event["detail"]["link"]["title"] == "限量"
    assert event["detail"]["link"]["state"] == "exhausted" and event["detail"]["link"]["visits"] == 2
