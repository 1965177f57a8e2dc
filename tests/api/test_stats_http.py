"""Statistics end to end over HTTP: visits -> stream -> StatsFunction -> the stats route."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pandas
import requests
import zxingcpp
from PIL import Image

from support import Devserver, eventually

USER_AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 Mobile Safari/537.36 aweme_290000 Douyin",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "WhatsApp/2.24.1 A",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "TelegramBot (like TwitterBot)",
]
PLATFORM = ["ios", "ios", "android", "android", "windows", "macos", "linux"]


def test_thirty_visits_ten_agents_three_bots_two_referrers(server: Devserver, api: requests.Session) -> None:
    code = "stats-" + uuid.uuid4().hex[:8]
    assert api.post(f"{server.url}/api/links", json={"url": "https://example.com/campaign", "alias": code}).status_code == 201
    referrers = ["https://weibo.com/post/1", "https://www.google.com/search?q=x"]
    humans, bots = USER_AGENTS[:7], USER_AGENTS[7:]
    visits = [(bot, referrers[0]) for bot in bots] + [(humans[i % 7], referrers[i % 2]) for i in range(27)]
    assert len(visits) == 30 and len({agent for agent, _ in visits}) == 10
    countries = ["CN", "US", "JP", None]  # the header CloudFront adds on an edge endpoint; none locally
    for i, (agent, referrer) in enumerate(visits):
        country = {"CloudFront-Viewer-Country": countries[i % 4]} if countries[i % 4] else {}
        answer = requests.get(f"{server.url}/{code}", headers={"User-Agent": agent, "Referer": referrer, **country},
                              allow_redirects=False)
        assert answer.status_code == 302  # bots are redirected too, just not counted
    expected_countries = dict(Counter(countries[i % 4] or "(unknown)" for i, (agent, _) in enumerate(visits) if agent in humans))
    expected_platforms = dict(Counter(PLATFORM[humans.index(agent)] for agent, _ in visits if agent in humans))
    expected_referrers = dict(Counter(referrer.split("/")[2] for agent, referrer in visits if agent in humans))
    today = time.strftime("%Y-%m-%d", time.gmtime(server.now()))
    report = eventually(lambda: api.get(f"{server.url}/api/links/{code}/stats", params={"tz": "UTC"}).json(),
                        lambda report: report["total"] >= 27)
    assert report["total"] == 27, json.dumps(report)
    assert [(d["day"], d["visits"]) for d in report["days"]] == [(today, 27)]
    assert report["platforms"] == expected_platforms == {"ios": 8, "android": 8, "windows": 4, "macos": 4, "linux": 3}
    assert report["referrers"] == expected_referrers == {"weibo.com": 14, "www.google.com": 13}
    assert report["apps"] == {"wechat": 4, "douyin": 4}
    assert report["countries"] == expected_countries and sum(expected_countries.values()) == 27
    assert report["browsers"]["WeChat Browser"] == 4 and report["browsers"]["Firefox"] == 3 and sum(report["browsers"].values()) == 27
    assert report["os"]["iOS"] == 8 and report["os"]["Android"] == 8 and sum(report["os"].values()) == 27
    assert report["devices"] == {"mobile": 16, "desktop": 11}
    # the same numbers as a spreadsheet: one row per day, one column per dimension value
    sheet = pandas.read_csv(io.BytesIO(api.get(f"{server.url}/api/links/{code}/stats", params={"tz": "UTC", "format": "csv"}).content),
                            encoding="utf-8-sig")
    assert list(sheet["day"]) == [today] and int(sheet["visits"].sum()) == 27
    assert {column.split(":", 1)[1]: int(sheet[column].sum()) for column in sheet.columns if column.startswith("country:")} == expected_countries
    assert api.get(f"{server.url}/api/links/{code}").json()["visits"] == 27


def test_qr_png_goes_through_the_gateway_as_bytes(server: Devserver, api: requests.Session) -> None:
    made = api.post(f"{server.url}/api/links", json={"url": "https://example.com/qr"}).json()
    png = api.get(f"{server.url}/api/links/{made['code']}/qr", params={"format": "png"}, headers={"Accept": "image/png"})
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))] == [made["short_url"]]
    assert not png.content.startswith(base64.b64encode(b"\x89PNG"))


def test_after_the_stream_drains_visits_and_statistics_equal_the_visits_served(server: Devserver, api: requests.Session) -> None:
    """Visits of a plain link go to its counters and reach its `visits` and its statistics by the
    stream; a limited link counts on its own item. Both exact once the stream has drained."""
    plain = api.post(f"{server.url}/api/links", json={"url": "https://example.com/viral"}).json()["code"]
    limited = api.post(f"{server.url}/api/links", json={"url": "https://example.com/few", "max_visits": 25}).json()["code"]

    def visit(code: str) -> int:
        with requests.Session() as session:
            return sum(session.get(f"{server.url}/{code}", allow_redirects=False, headers={"User-Agent": USER_AGENTS[0]}).status_code == 302
                       for _ in range(20))

    with ThreadPoolExecutor(max_workers=8) as pool:
        served = sum(pool.map(visit, [plain] * 6))
        served_limited = sum(pool.map(visit, [limited] * 3))
    assert served == 120 and served_limited == 25  # 60 asked, 25 let through: the limit is exact
    body = eventually(lambda: api.get(f"{server.url}/api/links/{plain}").json(), lambda body: body["visits"] >= served, seconds=30)
    report = api.get(f"{server.url}/api/links/{plain}/stats", params={"tz": "UTC"}).json()
    assert body["visits"] == report["total"] == served
    limited_body = api.get(f"{server.url}/api/links/{limited}").json()
    assert limited_body["visits"] == 25 and limited_body["state"] == "exhausted"


def test_countries_without_cloudfront_come_from_the_visitors_network(server: Devserver, api: requests.Session) -> None:
    """No CloudFront-Viewer-Country: StatsFunction looks the visitor's /24 up in its DB-IP table."""
    code = api.post(f"{server.url}/api/links", json={"url": "https://example.com/world"}).json()["code"]
    for address in ("114.114.114.114", "8.8.8.8", "193.0.6.139"):
        assert requests.get(f"{server.url}/{code}", headers={"X-Forwarded-For": address}, allow_redirects=False).status_code == 302
    report = eventually(lambda: api.get(f"{server.url}/api/links/{code}/stats", params={"tz": "UTC"}).json(),
                        lambda report: report["total"] >= 3)
    assert report["countries"] == {"CN": 1, "US": 1, "NL": 1}
