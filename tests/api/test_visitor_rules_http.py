"""Real HTTP against the devserver: redirect rules, the "open in browser" page for in-app
browsers, and link previews for chat apps' fetchers."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import requests

from support import Devserver, eventually

WECHAT_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN")
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
TELEGRAM = "TelegramBot (like TwitterBot)"


def _visit(server: Devserver, code: str, agent: str = CHROME, language: str = "de-DE", query: str = "",
           address: str = "198.51.100.7") -> requests.Response:
    return requests.get(f"{server.url}/{code}{query}", allow_redirects=False,
                        headers={"User-Agent": agent, "Accept-Language": language, "X-Forwarded-For": address,
                                 "Accept": "text/html"})


def _window(start: timedelta, end: timedelta) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"from": (now + start).isoformat(timespec="seconds"), "to": (now + end).isoformat(timespec="seconds")}


def test_one_short_link_sends_four_visitors_to_four_urls(server: Devserver, api: requests.Session) -> None:
    rules = [
        {"when": {"between": _window(-timedelta(days=2), -timedelta(days=1))}, "url": "https://shop.example/closed"},
        {"when": {"app": ["wechat"], "language": ["zh"]}, "url": "https://shop.example/wechat-zh"},
        {"when": {"device": ["android"], "language": ["en"]}, "url": "https://shop.example/android-en"},
        {"when": {"query": {"src": "poster"}}, "url": "https://shop.example/poster"},
        {"when": {"country": ["US"]}, "url": "https://shop.example/us"},
    ]
    made = api.post(f"{server.url}/api/links", json={"url": "https://shop.example/", "rules": rules})
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert [rule["url"] for rule in made.json()["rules"]] == [rule["url"] for rule in rules]
    seen = {
        "wechat zh-CN iPhone": _visit(server, code, WECHAT_IPHONE, "zh-CN,zh;q=0.9"),
        "en-US Android": _visit(server, code, ANDROID, "en-US,en;q=0.9"),
        "?src=poster": _visit(server, code, query="?src=poster"),
        "from the US": _visit(server, code, address="8.8.8.8"),
        "anyone else": _visit(server, code),
    }
    assert {who: answer.headers.get("Location") for who, answer in seen.items()} == {
        "wechat zh-CN iPhone": "https://shop.example/wechat-zh", "en-US Android": "https://shop.example/android-en",
        "?src=poster": "https://shop.example/poster", "from the US": "https://shop.example/us",
        "anyone else": "https://shop.example/"}


def test_a_rule_inside_its_window_is_taken_and_its_redirect_is_not_cached(server: Devserver, api: requests.Session) -> None:
    rules = [{"when": {"between": {**_window(-timedelta(hours=1), timedelta(hours=1)), "time_zone": "Asia/Shanghai"}},
              "url": "https://shop.example/sale"}]
    code = api.post(f"{server.url}/api/links", json={"url": "https://shop.example/", "rules": rules}).json()["code"]
    answer = _visit(server, code)
    assert answer.headers["Location"] == "https://shop.example/sale" and answer.headers["Cache-Control"] == "no-store"


def test_bad_rules_are_named_together_and_null_clears_them(server: Devserver, api: requests.Session) -> None:
    bad = api.post(f"{server.url}/api/links", json={"url": "https://shop.example/", "rules": [
        {"when": {"country": ["China"]}, "url": "https://shop.example/cn"},
        {"when": {"app": ["wechat"]}, "url": "javascript:alert(1)"}], "in_app": "sometimes"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"rules[0].when.country", "rules[1].url", "in_app"}
    made = api.post(f"{server.url}/api/links", json={"url": "https://shop.example/", "rules": [
        {"when": {"device": ["ios"]}, "url": "https://shop.example/ios"}]}).json()
    cleared = api.patch(f"{server.url}/api/links/{made['code']}", json={"rules": None})
    assert cleared.status_code == 200 and cleared.json()["rules"] == []
    assert _visit(server, made["code"], WECHAT_IPHONE).headers["Location"] == "https://shop.example/"


def test_wechat_gets_the_open_in_browser_page_counted_once_and_chrome_the_redirect(server: Devserver, api: requests.Session) -> None:
    made = api.post(f"{server.url}/api/links", json={"url": "https://apps.example/download?id=7", "in_app": "guide"}).json()
    page = _visit(server, made["code"], WECHAT_IPHONE, "zh-CN,zh;q=0.9")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "请在浏览器中打开" in page.text and "apps.example" in page.text and "在 Safari 中打开" in page.text
    assert 'value="https://apps.example/download?id=7"' in page.text and page.headers["Cache-Control"] == "no-store"
    chrome = _visit(server, made["code"])
    assert chrome.status_code == 302 and chrome.headers["Location"] == "https://apps.example/download?id=7"
    eventually(lambda: api.get(f"{server.url}/api/links/{made['code']}").json()["visits"] == 2)
    apps = eventually(lambda: api.get(f"{server.url}/api/links/{made['code']}/stats").json().get("apps"))
    assert apps == {"wechat": 1}


def test_a_preview_fetcher_gets_the_escaped_preview_and_uses_up_no_visit(server: Devserver, api: requests.Session) -> None:
    title = '双十二 <script>alert("x")</script> & "more"'
    made = api.post(f"{server.url}/api/links", json={
        "url": "https://shop.example/1212", "max_visits": 1,
        "preview": {"title": title, "description": "限时 <b>5 折</b>", "image": "https://cdn.example/1212.png"}}).json()
    fetched = _visit(server, made["code"], TELEGRAM)
    assert fetched.status_code == 200
    assert f'<meta property="og:title" content="{html.escape(title, quote=True)}">' in fetched.text
    assert "<script>" not in fetched.text and "shop.example" not in fetched.text  # the destination stays unsaid
    assert '<meta property="og:image" content="https://cdn.example/1212.png">' in fetched.text
    assert api.get(f"{server.url}/api/links/{made['code']}").json()["visits"] == 0
    person = _visit(server, made["code"])
    assert person.status_code == 302 and person.headers["Location"] == "https://shop.example/1212"


def test_without_a_preview_fetchers_get_what_bots_got(server: Devserver, api: requests.Session) -> None:
    code = api.post(f"{server.url}/api/links", json={"url": "https://shop.example/plain"}).json()["code"]
    assert _visit(server, code, TELEGRAM).headers["Location"] == "https://shop.example/plain"
