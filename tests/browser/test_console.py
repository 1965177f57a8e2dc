"""The console (/console) in real Chromium: sign in, links, a link's charts after real visits,
QR and CSV downloads, bulk create, an operator's take-down; both languages, phone and desktop."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas
import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from shortlink.http.i18n import MESSAGES
from shortlink.links.cache import REFUSING_COPY
from support import ROOT, Devserver, eventually

pytestmark = pytest.mark.devserver
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
OWNER, OPERATOR = "console-owner-key-000000", "console-operator-key-0000"
ZONE = "Asia/Shanghai"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devserver]:
    server = Devserver(tmp_path_factory.mktemp("console"), LOCAL_API_KEYS=OWNER, LOCAL_ADMIN_KEYS=OPERATOR,
                       TTL_SWEEP_INTERVAL="1").start()
    yield server
    server.stop()


def _console(browser: Browser, dev: Devserver, locale: str, device: dict[str, Any], key: str = OWNER) -> Page:
    context = browser.new_context(locale=locale, timezone_id=ZONE, base_url=dev.url, accept_downloads=True,
                                  bypass_csp=True,  # only to inject axe; the CSP itself is checked in the handler tests
                                  extra_http_headers={"Accept-Language": locale}, **device)
    page = context.new_page()
    page.goto("/console")
    page.locator("#key").fill(key)
    page.locator("#sign-in button[type=submit]").click()
    expect(page.locator("#list")).to_be_visible()
    return page


def _axe_clean(page: Page) -> None:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})")
    assert [v["id"] for v in found["violations"]] == [], found["violations"]
    assert found["passes"], "axe checked nothing"


WECHAT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
          "MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")


def _visited_link(dev: Devserver, visits: int) -> dict[str, Any]:
    api = {"x-api-key": OWNER}
    link = requests.post(f"{dev.url}/api/links", headers=api, json={"url": "https://example.com/poster", "title": "海报 poster",
                                                                     "alias": "c-" + uuid.uuid4().hex[:8]}).json()
    for i in range(visits):  # from WeChat on iPhones in China (114DNS's network: CN in DB-IP's table)
        assert requests.get(link["short_url"], allow_redirects=False, headers={
            "X-Forwarded-For": f"114.114.114.{i + 1}", "User-Agent": WECHAT}).status_code == 302
    eventually(lambda: requests.get(f"{dev.url}/api/links/{link['code']}/stats", headers=api, params={"tz": ZONE}).json()["total"],
               lambda total: total >= visits)
    return dict(link)


@pytest.mark.parametrize("locale, device", [("zh-CN", PHONE), ("en", DESKTOP)], ids=["zh-CN-phone", "en-desktop"])
def test_sign_in_find_a_link_see_its_charts_and_download_qr_and_csv(browser: Browser, dev: Devserver, screenshots: Path,
                                                                     locale: str, device: dict[str, Any]) -> None:
    link = _visited_link(dev, 5)
    texts = MESSAGES[locale]
    page = _console(browser, dev, locale, device)
    expect(page.locator("h1")).to_have_text(texts["console.title"])
    _axe_clean(page)
    page.locator("#search").fill(link["code"])
    row = page.locator(f"#links tr[data-code='{link['code']}']")
    expect(row).to_contain_text(link["short_url"])
    expect(row.locator("td").nth(2)).to_have_text("5")
    expect(row.locator("td").nth(3)).to_have_text(texts["console.state.active"])
    page.screenshot(path=screenshots / f"console-list-{locale}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no card wider than the phone

    row.get_by_role("link").click()
    expect(page.locator("#detail-title")).to_have_text(link["short_url"])
    expect(page.locator("#chart canvas").first).to_be_visible()
    week = requests.get(f"{dev.url}/api/links/{link['code']}/stats", headers={"x-api-key": OWNER}, params={
        "tz": ZONE, "granularity": "hour",
        "from": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600 - 6 * 86400)),
        "to": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))}).json()
    expect(page.locator("#total")).to_have_text(str(week["total"]))
    assert page.locator("#chart").get_attribute("data-total") == str(week["total"]) == "5"  # the chart plots the API's visits
    expect(page.locator("#visitors")).to_have_text("5")
    platforms = page.locator("table[data-dimension=platforms] tbody tr")
    expect(platforms).to_have_count(len(week["platforms"]))
    # named in the page's language: 中国 / China, 微信 / WeChat; hours as 12月6日 14:00 / Dec 6, 14:00
    expect(page.locator("table[data-dimension=countries] tbody tr").first).to_contain_text("中国" if locale == "zh-CN" else "China")
    expect(page.locator("table[data-dimension=apps] tbody tr").first).to_contain_text(texts["stats.app.wechat"])
    first_hour = page.locator("#series tbody tr time").first
    assert re.fullmatch(r"\d{1,2}月\d{1,2}日 \d{2}:00" if locale == "zh-CN" else r"[A-Z][a-z]{2} \d{1,2}, \d{2}:00",
                        first_hour.text_content() or ""), first_hour.text_content()
    _axe_clean(page)
    page.screenshot(path=screenshots / f"console-link-{locale}.png", full_page=True)

    with page.expect_download() as png:
        page.locator("#qr-downloads button[data-size='1024']").click()
    assert png.value.suggested_filename == f"qr-{link['code']}.png"
    image = Image.open(io.BytesIO(Path(png.value.path()).read_bytes()))
    assert image.size == (1024, 1024) and [r.text for r in zxingcpp.read_barcodes(image)] == [link["short_url"]]
    with page.expect_download() as csv:
        page.locator("#export").click()
    sheet = pandas.read_csv(csv.value.path(), encoding="utf-8-sig")
    assert int(sheet[texts["csv.visits"]].sum()) == 5 and csv.value.suggested_filename == f"stats-{link['code']}.csv"
    assert f"{texts['csv.app']}:{texts['stats.app.wechat']}" in sheet.columns  # the header in the page's language
    page.context.close()


def test_bulk_create_five_lines_one_bad_fails_alone(browser: Browser, dev: Devserver, screenshots: Path) -> None:
    page = _console(browser, dev, "zh-CN", DESKTOP)
    tag = uuid.uuid4().hex[:6]
    lines = [f"https://example.com/bulk/{i},b-{tag}-{i},第{i}个" for i in range(4)] + ["javascript:alert(1)"]
    page.locator("#bulk-lines").fill("\n".join(lines[:2] + [lines[4]] + lines[2:4]))
    page.locator("#bulk button[type=submit]").click()
    results = page.locator("#bulk-table tbody tr")
    expect(results).to_have_count(5)
    expect(page.locator("#bulk-table tr.ok")).to_have_count(4)
    expect(page.locator("#bulk-table tr.failed")).to_have_text(["javascript:alert(1)" + MESSAGES["zh-CN"]["error.url"]])
    page.screenshot(path=screenshots / "console-bulk-zh-CN.png", full_page=True)
    with page.expect_download() as download:
        page.locator("#bulk-download").click()
    sheet = pandas.read_csv(download.value.path(), encoding="utf-8-sig")
    assert sorted(sheet["status"]) == [201, 201, 201, 201, 422]
    _axe_clean(page)  # the results view too
    made = requests.get(f"{dev.url}/api/links/b-{tag}-3", headers={"x-api-key": OWNER}).json()
    assert made["title"] == "第3个" and made["url"] == "https://example.com/bulk/3"
    page.context.close()


def test_bulk_create_from_a_csv_with_columns_carries_rules_and_tags(browser: Browser, dev: Devserver, tmp_path: Path) -> None:
    """A spreadsheet's CSV (header row, quoted JSON rules, a title with commas): each row one link;
    a bad rule fails its row alone, named by the server."""
    page = _console(browser, dev, "en", PHONE)
    tag = uuid.uuid4().hex[:6]
    rules = '[{"when": {"app": ["wechat"]}, "url": "https://example.com/wx"}]'
    sheet = pandas.DataFrame({
        "url": ["https://example.com/c/0", "https://example.com/c/1", "https://example.com/c/2"],
        "alias": [f"c-{tag}-0", f"c-{tag}-1", f"c-{tag}-2"],
        "title": ["Spring, 2027", "", ""], "tags": [f"{tag};spring", tag, ""], "max_visits": ["", "7", ""],
        "rules": [rules, "", '[{"when": {"country": ["XX"]}, "url": "https://example.com/x"}]'],
        "visits": [3, 4, 5],  # a column the API does not take (as in the links export): left out
    })
    path = tmp_path / "links.csv"
    sheet.to_csv(path, index=False, encoding="utf-8-sig")
    page.locator("#bulk-file").set_input_files(str(path))
    expect(page.locator("#bulk-lines")).to_have_value(re.compile(r"^url,alias,title"))
    page.locator("#bulk button[type=submit]").click()
    expect(page.locator("#bulk-table tbody tr")).to_have_count(3)
    expect(page.locator("#bulk-table tr.ok")).to_have_count(2)
    expect(page.locator("#bulk-table tr.failed")).to_contain_text("country")
    first = requests.get(f"{dev.url}/api/links/c-{tag}-0", headers={"x-api-key": OWNER}).json()
    assert first["title"] == "Spring, 2027" and first["tags"] == [tag, "spring"]
    assert first["rules"] == [{"when": {"app": ["wechat"]}, "url": "https://example.com/wx"}]
    second = requests.get(f"{dev.url}/api/links/c-{tag}-1", headers={"x-api-key": OWNER}).json()
    assert second["max_visits"] == 7 and second["visits"] == 0 and second["rules"] == []
    assert requests.get(f"{dev.url}/api/links/c-{tag}-2", headers={"x-api-key": OWNER}).status_code == 404
    _axe_clean(page)
    page.context.close()


def test_an_operator_disables_a_link_made_on_the_page(browser: Browser, dev: Devserver, screenshots: Path) -> None:
    anonymous = requests.post(f"{dev.url}/api/shorten", json={"url": "https://example.com/spam"}).json()
    dev.drain()  # listed once the search index has it
    page = _console(browser, dev, "en", PHONE, key=OPERATOR)
    page.locator("#search").fill(anonymous["code"])  # the server's search: found among every link
    row = page.locator(f"#links tr[data-code='{anonymous['code']}']")
    expect(row).to_contain_text(MESSAGES["en"]["console.anonymous"])
    state = row.locator("td").nth(3)
    disable = f"{MESSAGES['en']['console.disable']} {anonymous['short_url']}"
    enable = f"{MESSAGES['en']['console.enable']} {anonymous['short_url']}"
    row.get_by_role("button", name=disable).click()  # one click
    expect(state).to_contain_text(MESSAGES["en"]["console.state.disabled"])
    assert requests.get(anonymous["short_url"], allow_redirects=False).status_code == 410
    row.get_by_role("button", name=enable).click()  # and back, from the row
    expect(state).to_contain_text(MESSAGES["en"]["console.state.active"])
    row.get_by_role("button", name=disable).click()
    expect(state).to_contain_text(MESSAGES["en"]["console.state.disabled"])
    row.get_by_role("link").click()
    expect(page.locator("#settings")).to_contain_text(MESSAGES["en"]["console.state.disabled"])
    page.locator("#toggle").click()  # and back, from the link's page
    expect(page.locator("#settings")).to_contain_text(MESSAGES["en"]["console.state.active"])
    dev.advance_clock(REFUSING_COPY / 1000)  # the redirect keeps a copy that refuses visits a second
    assert requests.get(anonymous["short_url"], allow_redirects=False).status_code == 302
    page.locator("#toggle").click()
    expect(page.locator("#settings")).to_contain_text(MESSAGES["en"]["console.state.disabled"])
    page.screenshot(path=screenshots / "console-operator-en.png", full_page=True)
    page.context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_sign_in_view_is_accessible_and_a_wrong_key_is_refused(browser: Browser, dev: Devserver, locale: str,
                                                                   screenshots: Path) -> None:
    context = browser.new_context(locale=locale, timezone_id=ZONE, base_url=dev.url, bypass_csp=True,
                                  extra_http_headers={"Accept-Language": locale}, **PHONE)
    page = context.new_page()
    page.goto("/console")
    expect(page.locator("#sign-in")).to_be_visible()
    _axe_clean(page)
    page.screenshot(path=screenshots / f"console-sign-in-{locale}.png", full_page=True)
    page.locator("#key").fill("not-a-key")
    page.locator("#sign-in button[type=submit]").click()
    expect(page.locator("#key-error")).to_have_text(MESSAGES[locale]["console.bad_key"])
    expect(page.locator("#list")).to_be_hidden()
    page.locator("#key").fill(OWNER)
    page.locator("#remember").check()
    page.locator("#sign-in button[type=submit]").click()
    expect(page.locator("#list")).to_be_visible()
    assert page.evaluate("localStorage.getItem('shortlink.key')") == OWNER  # remembered when asked
    page.reload()
    expect(page.locator("#list")).to_be_visible()
    page.locator("#sign-out").click()
    expect(page.locator("#sign-in")).to_be_visible()
    assert page.evaluate("[localStorage.getItem('shortlink.key'), sessionStorage.getItem('shortlink.key')]") == [None, None]
    context.close()


def test_create_with_every_option_filter_by_tag_and_upload_a_csv(browser: Browser, dev: Devserver, tmp_path: Path) -> None:
    page = _console(browser, dev, "en", DESKTOP)
    alias, tag = "opt-" + uuid.uuid4().hex[:8], "t" + uuid.uuid4().hex[:6]
    page.locator("#new-url").fill("https://example.com/landing?ref=1")
    page.locator("#utm-source").fill("wechat")
    page.locator("#utm-campaign").fill("spring")
    page.locator("#new-validity").select_option("custom")
    page.locator("#new-expires-at").fill("2031-01-02T03:04")
    page.locator("#new-alias").fill(alias)
    page.locator("#new-title").fill("Spring, 2031")
    page.locator("#new-tags").fill(f"{tag}, poster")
    page.locator("#new-password").fill("open sesame")
    page.locator("#new-max-visits").fill("50")
    page.locator("#new-valid-since").fill("2030-12-31T08:00")
    page.locator("#target-ios").fill("https://apps.apple.com/app/id1")
    page.locator("#create button[type=submit]").click()
    expect(page.locator("#create-result")).to_contain_text(alias)
    made = requests.get(f"{dev.url}/api/links/{alias}", headers={"x-api-key": OWNER}).json()
    assert made["url"] == "https://example.com/landing?ref=1&utm_source=wechat&utm_campaign=spring"
    assert (made["expires_at"], made["valid_since"]) == ("2031-01-01T19:04:00Z", "2030-12-31T00:00:00Z")  # Shanghai times
    assert made["tags"] == [tag, "poster"] and made["max_visits"] == 50 and made["password_protected"] is True
    assert made["title"] == "Spring, 2031" and made["targets"]["ios"] == "https://apps.apple.com/app/id1"
    page.locator("#new-url").fill("https://example.com/again")
    page.locator("#new-alias").fill(alias)
    page.locator("#create button[type=submit]").click()
    expect(page.locator("#new-alias-error")).to_have_text(MESSAGES["en"]["error.alias_taken"])

    dev.drain()  # the list follows the links stream: the filter asks once, so ask once the index has the link
    page.locator("#tag-filter").fill(tag)
    page.locator("#tag-filter").dispatch_event("change")
    expect(page.locator("#links tbody tr")).to_have_count(1)
    expect(page.locator("#links tbody tr")).to_have_attribute("data-code", alias)

    upload = tmp_path / "links.csv"
    upload.write_text('\ufeffurl,alias,title\nhttps://example.com/csv/1,,"Poster, A"\nhttps://example.com/csv/2\nnot a url\n',
                      encoding="utf-8")
    page.locator("#bulk-file").set_input_files(str(upload))
    page.locator("#bulk button[type=submit]").click()
    expect(page.locator("#bulk-table tbody tr")).to_have_count(3)
    expect(page.locator("#bulk-table tr.ok")).to_have_count(2)
    titled = page.locator("#bulk-table tr.ok").first.inner_text()
    code = titled.rsplit("/", 1)[1].strip()
    assert requests.get(f"{dev.url}/api/links/{code}", headers={"x-api-key": OWNER}).json()["title"] == "Poster, A"
    page.context.close()


def test_change_a_links_settings_from_its_page(browser: Browser, dev: Devserver) -> None:
    link = requests.post(f"{dev.url}/api/links", headers={"x-api-key": OWNER},
                         json={"url": "https://example.com/old", "title": "Old", "tags": ["a"], "validity": "7d"}).json()
    page = _console(browser, dev, "zh-CN", PHONE)
    page.goto(f"/console#link/{link['domain']}/{link['code']}")
    expect(page.locator("#detail-title")).to_have_text(link["short_url"])
    page.locator("#edit-box summary").click()
    expect(page.locator("#edit-url")).to_have_value("https://example.com/old")
    page.locator("#edit-url").fill("https://example.com/new")
    page.locator("#edit-title").fill("")
    page.locator("#edit-tags").fill("春季, 海报")
    page.locator("#edit-validity").select_option("permanent")
    page.locator("#edit-max-visits").fill("3")
    page.locator("#edit button[type=submit]").click()
    expect(page.locator("#edit-result")).to_have_text(MESSAGES["zh-CN"]["console.saved"])
    changed = requests.get(f"{dev.url}/api/links/{link['code']}", headers={"x-api-key": OWNER}).json()
    assert (changed["url"], changed["title"], changed["tags"]) == ("https://example.com/new", None, ["春季", "海报"])
    assert changed["expires_at"] is None and changed["max_visits"] == 3
    _axe_clean(page)
    page.context.close()


def test_the_api_docs_render_with_no_request_leaving_the_origin(browser: Browser, dev: Devserver, screenshots: Path) -> None:
    # the page's own CSP applies (no bypass): it must allow what the viewer needs, and nothing else
    context = browser.new_context(base_url=dev.url, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    page = context.new_page()
    answered: list[str] = []  # a request the page's CSP refuses never leaves the browser: no response
    page.on("response", lambda response: answered.append(response.url))
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto("/console")
    page.get_by_role("link", name=MESSAGES["zh-CN"]["console.api_docs"]).click()  # linked from the console
    expect(page).to_have_url(f"{dev.url}/api/docs")
    expect(page.get_by_role("heading", name="Short links API")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Find the key's links").first).to_be_visible()
    page.screenshot(path=screenshots / "api-docs.png")
    assert answered and [url for url in answered if not url.startswith((dev.url, "blob:", "data:"))] == []
    # Redoc 2.5.4 always draws Redocly's logo from its CDN in the menu's footer: the CSP keeps it in
    assert [text for text in refused if "cdn.redoc.ly/redoc/logo-mini.svg" not in text] == []
    context.close()


def test_a_link_page_shows_and_edits_everything_and_compares_two_links(browser: Browser, dev: Devserver, screenshots: Path) -> None:
    texts = MESSAGES["zh-CN"]
    first, second = _visited_link(dev, 3), _visited_link(dev, 2)
    page = _console(browser, dev, "zh-CN", PHONE)
    page.goto(f"/console#link/{first['domain']}/{first['code']}")
    settings = page.locator("#settings")
    for shown in (texts["console.created_at"], texts["console.password_none"], first["title"], texts["console.limit_shown"]):
        expect(settings).to_contain_text(shown)
    page.locator("#edit-box summary").click()
    page.locator("#edit-password").fill("open sesame")
    page.locator("#edit-target-ios").fill("https://apps.apple.com/app/id1")
    page.locator("#edit button[type=submit]").click()
    expect(page.locator("#edit-result")).to_have_text(texts["console.saved"])
    expect(settings).to_contain_text(texts["console.password_set"])
    expect(settings).to_contain_text("ios: https://apps.apple.com/app/id1")
    api = {"x-api-key": OWNER}
    stored = requests.get(f"{dev.url}/api/links/{first['code']}", headers=api).json()
    assert stored["password_protected"] and stored["targets"] == {"ios": "https://apps.apple.com/app/id1"}
    expect(page.locator("#edit-password")).to_be_visible()  # the edit form stays open after saving
    page.locator("#edit-clear-password").check()
    page.locator("#edit-target-ios").fill("")
    page.locator("#edit button[type=submit]").click()
    expect(settings).to_contain_text(texts["console.password_none"])
    stored = requests.get(f"{dev.url}/api/links/{first['code']}", headers=api).json()
    assert not stored["password_protected"] and stored["targets"] == {}

    page.locator("#compare").fill(second["code"])  # two links on one chart
    page.locator("#compare-form button[type=submit]").click()
    expect(page.locator("#chart")).to_have_attribute("data-compared", second["code"])
    expect(page.locator("#chart .u-legend")).to_contain_text(second["code"])
    page.locator("#range").select_option("custom")  # any range within retention
    expect(page.locator("#custom-range")).to_be_visible()
    page.locator("#range-from").fill(time.strftime("%Y-%m-%d", time.gmtime(time.time() - 20 * 86400)))
    expect(page.locator("#series tbody tr")).to_have_count(21, timeout=10_000)  # by day: 21 days
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing wider than a 390 px phone
    _axe_clean(page)
    page.screenshot(path=screenshots / "console-link-edit-zh-CN.png", full_page=True)
    page.context.close()


@pytest.mark.parametrize("locale, device", [("zh-CN", PHONE), ("en", DESKTOP)], ids=["zh-CN-phone", "en-desktop"])
def test_a_server_that_does_not_answer_shows_an_error_with_a_retry(browser: Browser, dev: Devserver, locale: str,
                                                                    device: dict[str, Any]) -> None:
    texts = MESSAGES[locale]
    made = _visited_link(dev, 0)
    dev.drain()
    page = _console(browser, dev, locale, device)
    page.route("**/api/links**", lambda route: route.abort("connectionrefused"))  # as a stopped server answers
    page.locator("#search").fill(made["code"])
    error = page.locator("#list-error")
    expect(error).to_contain_text(texts["console.unreachable"])
    page.locator("#new-url").fill("https://example.com/while-down")
    page.locator("#create button[type=submit]").click()
    expect(page.locator("#create-error")).to_contain_text(texts["console.unreachable"])
    _axe_clean(page)
    page.unroute("**/api/links**")
    error.get_by_role("button", name=texts["console.retry"]).click()
    expect(page.locator(f"#links tr[data-code='{made['code']}']")).to_be_visible()
    expect(error).to_be_empty()
    page.context.close()


def test_search_finds_a_link_far_beyond_the_first_page(browser: Browser, dev: Devserver) -> None:
    api = {"x-api-key": OWNER}
    tag = uuid.uuid4().hex[:6]
    oldest = requests.post(f"{dev.url}/api/links", headers=api, json={"url": "https://example.com/old", "title": f"去年的双十二 {tag}"}).json()
    for start in (0, 100):  # 200 newer links: the oldest is on no first page of 100
        made = requests.post(f"{dev.url}/api/links/batch", headers=api, json={"links": [
            {"url": f"https://example.com/new/{start + i}", "title": f"新品 {start + i}"} for i in range(100)]})
        assert made.status_code == 200
    dev.drain()
    page = _console(browser, dev, "zh-CN", DESKTOP)
    expect(page.locator(f"#links tr[data-code='{oldest['code']}']")).to_have_count(0)  # not among the first 100
    page.locator("#search").fill(f"双十二 {tag}")  # a Chinese title fragment: the server finds it, no Load more
    expect(page.locator("#links tbody tr")).to_have_count(1)
    expect(page.locator(f"#links tr[data-code='{oldest['code']}']")).to_be_visible()
    page.context.close()


def test_most_visits_puts_first_a_link_far_beyond_the_first_page(browser: Browser, dev: Devserver) -> None:
    api = {"x-api-key": OWNER}
    oldest = requests.post(f"{dev.url}/api/links", headers=api, json={"url": "https://example.com/popular"}).json()
    made = requests.post(f"{dev.url}/api/links/batch", headers=api, json={"links": [
        {"url": f"https://example.com/newer/{i}"} for i in range(100)]})  # the oldest is on no first page of 100
    assert made.status_code == 200
    dev.drain()
    leader = requests.get(f"{dev.url}/api/links", headers=api, params={"sort": "-visits", "limit": 1}).json()["links"][0]
    for _ in range(leader["visits"] + 1):  # more than any link of the module's other tests
        assert requests.get(f"{dev.url}/{oldest['code']}", allow_redirects=False).status_code == 302
    dev.drain()
    page = _console(browser, dev, "zh-CN", PHONE)
    expect(page.locator(f"#links tr[data-code='{oldest['code']}']")).to_have_count(0)
    page.locator("#sort").select_option("visits")
    expect(page.locator("#links tbody tr").first).to_have_attribute("data-code", oldest["code"])
    expect(page.locator("#links tbody tr").first).to_contain_text(str(leader["visits"] + 1))
    page.context.close()


def test_rules_in_app_and_preview_are_set_shown_and_changed_from_the_console(browser: Browser, dev: Devserver,
                                                                            screenshots: Path) -> None:
    page = _console(browser, dev, "en", DESKTOP)
    page.locator("#new-url").fill("https://example.com/shop")
    page.locator("#new-in-app").select_option("guide")
    page.locator("#new-rules").fill('[{"when": {"app": ["wechat"]}, "url": "https://example.com/wx"}]')
    page.locator("#new-preview-title").fill("Spring sale")
    page.locator("#create button[type=submit]").click()
    expect(page.locator("#create-result")).to_contain_text(MESSAGES["en"]["console.made"])
    code = page.locator("#create-result").inner_text().rsplit("/", 1)[1]
    made = requests.get(f"{dev.url}/api/links/{code}", headers={"x-api-key": OWNER}).json()
    assert (made["in_app"], made["rules"], made["preview"]) == (
        "guide", [{"when": {"app": ["wechat"]}, "url": "https://example.com/wx"}], {"title": "Spring sale"})
    page.goto(f"/console#link/{made['domain']}/{made['code']}")
    expect(page.locator("#settings")).to_contain_text('{"app":["wechat"]} → https://example.com/wx')
    expect(page.locator("#settings")).to_contain_text(MESSAGES["en"]["console.in_app_guide"])
    page.locator("#edit-box summary").click()
    page.locator("#edit-rules").fill('[{"when": {"country": ["Narnia"]}, "url": "https://example.com/n"}]')
    page.locator("#edit button[type=submit]").click()
    expect(page.locator("#edit-result")).to_contain_text("rules[0].when.country")  # the field is named
    page.locator("#edit-rules").fill("")
    page.locator("#edit-in-app").select_option("")
    page.locator("#edit button[type=submit]").click()
    expect(page.locator("#edit-result")).to_have_text(MESSAGES["en"]["console.saved"])
    changed = requests.get(f"{dev.url}/api/links/{made['code']}", headers={"x-api-key": OWNER}).json()
    assert (changed["in_app"], changed["rules"], changed["preview"]) == (None, [], {"title": "Spring sale"})
    page.screenshot(path=str(screenshots / "console-visit-settings.png"), full_page=True)
    _axe_clean(page)
    page.context.close()


@pytest.mark.parametrize("locale, device", [("zh-CN", PHONE), ("en", DESKTOP)], ids=["zh-CN-phone", "en-desktop"])
def test_an_admin_hands_out_a_key_and_revokes_it(browser: Browser, dev: Devserver, screenshots: Path, locale: str,
                                                 device: dict[str, Any]) -> None:
    texts = MESSAGES[locale]
    team = "growth-" + uuid.uuid4().hex[:4]
    admin = _console(browser, dev, locale, device, key=OPERATOR)
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"])
    expect(admin.locator("#whoami")).to_have_text(texts["console.whoami_own"].format(role=texts["console.role.admin"]))
    admin.locator("#keys-link").click()
    admin.locator("#key-name").fill("市场部 A1")
    admin.locator("#key-role").select_option("member")
    admin.locator("#key-team").fill(team)
    admin.locator("#key-form button[type=submit]").click()
    expect(admin.locator("#key-made")).to_be_visible()
    expect(admin.locator("#key-made")).to_contain_text(texts["console.key_secret"])
    secret = admin.locator("#key-secret").input_value()
    assert secret.startswith("slk_")
    admin.locator("#key-copy").click()
    expect(admin.locator("#key-copy-status")).to_have_text(texts["copied"])
    assert admin.evaluate("navigator.clipboard.readText()") == secret
    row = admin.locator("#key-table tbody tr", has_text=team)
    expect(row).to_contain_text("市场部 A1")
    expect(row).to_contain_text(texts["console.key_state.active"])
    admin.screenshot(path=screenshots / f"console-keys-{locale}.png", full_page=True)
    _axe_clean(admin)

    member = _console(browser, dev, locale, device, key=secret)  # a fresh context, signed in with the new key
    expect(member.locator("#whoami")).to_have_text(texts["console.whoami_team"].format(role=texts["console.role.member"], team=team))
    expect(member.locator("#keys-link")).to_be_hidden()
    expect(member.locator("#create")).to_be_visible()
    made = requests.post(f"{dev.url}/api/links", headers={"x-api-key": secret}, json={"url": "https://example.com/team"}).json()
    member.evaluate(f"location.hash = '#link/{made['domain']}/{made['code']}'")
    expect(member.locator("#settings")).to_contain_text(f"{texts['console.created_by']}市场部 A1")  # who made it, by name
    expect(member.locator("#settings")).to_contain_text(f"{texts['console.team_shown']}{team}")

    admin.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=texts["console.key_revoke_named"].format(name="市场部 A1")).click()
    expect(row).to_contain_text(texts["console.key_state.revoked"])
    member.evaluate("location.hash = ''")  # back to the list: the next request says so, and signs out
    expect(member.locator("#sign-in")).to_be_visible()
    expect(member.locator("#key-error")).to_have_text(texts["console.key_refused"])
    admin.context.close()
    member.context.close()


def test_a_viewer_gets_no_write_buttons(browser: Browser, dev: Devserver) -> None:
    made = requests.post(f"{dev.url}/api/keys", headers={"x-api-key": OPERATOR},
                         json={"name": "auditor", "role": "viewer", "team": "audit"}).json()
    page = _console(browser, dev, "en", DESKTOP, key=made["key"])
    expect(page.locator("#whoami")).to_have_text(MESSAGES["en"]["console.whoami_team"].format(
        role=MESSAGES["en"]["console.role.viewer"], team="audit"))
    for write in ("#create", "#bulk", "#new-link"):
        expect(page.locator(write)).to_be_hidden()
    _axe_clean(page)
    page.context.close()
