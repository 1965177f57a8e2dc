"""The shorten page in real Chromium: both languages, results, errors, phone, keyboard, a11y."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from shortlink.links.follow import GUESSES_PER_MINUTE
from support import ROOT, Devserver, seed_link

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def _page(browser: Browser, server: Devserver, locale: str, **options: object) -> Page:
    context = browser.new_context(locale=locale, timezone_id="Asia/Shanghai", base_url=server.url,
                                  extra_http_headers={"Accept-Language": locale}, **options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.goto("/")
    return page


def _shorten(page: Page, url: str, alias: str | None = None, validity: str | None = None, domain: str | None = None) -> None:
    page.get_by_label(page.locator("label[for=url]").inner_text()).fill(url)
    if domain:
        page.locator("#domain").select_option(domain)
    if validity:
        page.locator("#validity").select_option(validity)
    if alias:
        page.locator("#alias").fill(alias)
    page.locator("#submit").click()


def _decode_qr(page: Page) -> list[str]:
    image = Image.open(io.BytesIO(page.locator("#qr").screenshot()))
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_shorten_in_chinese_copy_scan_and_follow(browser: Browser, server: Devserver, landing: str, alias: str,
                                                 screenshots: Path) -> None:
    page = _page(browser, server, "zh-CN")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("短链接")
    expect(page.locator("label[for=domain]")).to_have_text("链接域名")
    expect(page.locator("label[for=validity]")).to_have_text("短网址有效期")
    assert page.locator("#validity option").all_inner_texts() == ["1天", "7天", "30天", "90天", "180天", "1年", "永久有效", "自定义日期和时间…"]
    expect(page.locator("#validity")).to_have_value("30d")  # the stack's default
    _shorten(page, f"{landing}/文章?id=7", alias=alias, validity="7d", domain=server.domains[1])
    short = f"http://{server.domains[1]}/{alias}"
    expect(page.locator("#short-url")).to_have_text(short)
    expect(page.locator("#result-title")).to_be_focused()
    expires = page.locator("#expires")
    stamp = time.localtime(time.time() + 7 * 86400)
    expect(expires).to_contain_text(f"{stamp.tm_year}年{stamp.tm_mon}月")  # the visitor's locale and zone
    page.locator("#copy").click()
    expect(page.locator("#copy-status")).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == short
    page.locator("#qr").evaluate("img => img.decode()")
    assert _decode_qr(page) == [short]
    page.screenshot(path=screenshots / "zh-CN-result.png", full_page=True)
    page.locator("#short-url").click()
    expect(page.locator("#landed")).to_have_text("/%E6%96%87%E7%AB%A0?id=7")
    page.context.close()


def test_shorten_in_english_and_switch_language(browser: Browser, server: Devserver, landing: str, screenshots: Path) -> None:
    page = _page(browser, server, "en-US")
    expect(page.locator("h1")).to_have_text("Short links")
    expect(page.locator("label[for=validity]")).to_have_text("Valid for")
    _shorten(page, f"{landing}/en", validity="permanent")
    expect(page.locator("#short-url")).to_contain_text(f"http://{server.domains[0]}/")
    expect(page.locator("#expires")).to_have_text("Never expires")
    page.screenshot(path=screenshots / "en-result.png", full_page=True)
    page.get_by_role("link", name="中文").click()
    expect(page.locator("h1")).to_have_text("短链接")
    page.reload()  # the choice is remembered over Accept-Language
    expect(page.locator("h1")).to_have_text("短链接")
    assert "Short links" not in page.content()  # no mixed-language screen
    page.context.close()


def test_api_errors_show_next_to_their_field_in_the_page_language(browser: Browser, server: Devserver, api: requests.Session,
                                                                  alias: str) -> None:
    assert api.post(f"{server.url}/api/links", json={"url": "https://example.com/", "alias": alias}).status_code == 201
    page = _page(browser, server, "zh-CN")
    _shorten(page, "https://example.com/other", alias=alias)
    expect(page.locator("#alias-error")).to_have_text("该后缀已被占用，请换一个。")
    expect(page.locator("#alias")).to_have_attribute("aria-invalid", "true")
    _shorten(page, "ftp://example.com/file", alias="")
    expect(page.locator("#url-error")).to_contain_text("请输入有效的")
    expect(page.locator("#url")).to_be_focused()
    page.context.close()
    english = _page(browser, server, "en")
    _shorten(english, "https://example.com/x", alias="no spaces allowed")
    expect(english.locator("#alias-error")).to_contain_text("Use 3-64 letters")
    english.context.close()


def test_network_failure_says_so_and_keeps_the_input(browser: Browser, server: Devserver) -> None:
    page = _page(browser, server, "en")
    page.route("**/api/shorten", lambda route: route.abort("internetdisconnected"))
    _shorten(page, "https://example.com/kept", alias="kept-alias")
    expect(page.locator("#form-error")).to_contain_text("Could not reach the service")
    expect(page.locator("#url")).to_have_value("https://example.com/kept")
    expect(page.locator("#alias")).to_have_value("kept-alias")
    expect(page.locator("#submit")).to_be_enabled()
    page.context.close()


def test_expired_and_unknown_links_get_friendly_pages(browser: Browser, server: Devserver, alias: str, screenshots: Path) -> None:
    seed_link(server.dynamodb, domain=server.domains[0], code=alias, expires_in=-1, now=server.now())
    page = _page(browser, server, "zh-CN")
    answer = page.goto(f"/{alias}")
    assert answer is not None and answer.status == 410
    expect(page.locator("h1")).to_have_text("链接已过期")
    page.screenshot(path=screenshots / "zh-CN-expired.png")
    answer = page.goto("/no-such-link-here")
    assert answer is not None and answer.status == 404
    expect(page.locator("h1")).to_have_text("链接不存在")
    page.context.close()
    # API clients still get problem+json
    problem = requests.get(f"{server.url}/{alias}", headers={"Accept": "application/json"})
    assert problem.headers["Content-Type"] == "application/problem+json"


def test_password_page_in_the_browser(browser: Browser, server: Devserver, api: requests.Session, landing: str, alias: str) -> None:
    assert api.post(f"{server.url}/api/links", json={"url": f"{landing}/secret", "alias": alias, "password": "open sesame"}).status_code == 201
    page = _page(browser, server, "en")
    page.goto(f"/{alias}")
    expect(page.locator("h1")).to_have_text("Protected link")
    page.get_by_label("Password").fill("open sesame")
    page.get_by_role("button", name="Open link").click()
    expect(page.locator("#landed")).to_have_text("/secret")
    page.context.close()


@pytest.mark.devserver  # many addresses by X-Forwarded-For, and the server's clock
def test_password_page_proves_its_work_when_the_link_is_under_attack(browser: Browser, server: Devserver, api: requests.Session,
                                                                     landing: str, alias: str) -> None:
    assert api.post(f"{server.url}/api/links", json={"url": f"{landing}/guarded", "alias": alias, "password": "open sesame"}).status_code == 201
    server.advance_clock(60.5 - server.now() % 60)  # the start of a minute: the lane cannot refill meanwhile
    for n in range(GUESSES_PER_MINUTE):  # others spend the link's open lane of guesses
        requests.post(f"{server.url}/{alias}", data={"password": f"guess-{n}"}, headers={"X-Forwarded-For": f"198.51.100.{n}"})
    page = _page(browser, server, "en")
    page.goto(f"/{alias}")
    page.get_by_label("Password").fill("open sesame")
    page.get_by_role("button", name="Open link").click()
    expect(page.locator("form[data-bits]")).to_be_visible()  # asked for a proof: the page finds it meanwhile
    expect(page.locator("p[role=status]")).to_contain_text("short check")
    page.get_by_label("Password").fill("open sesame")
    page.get_by_role("button", name="Open link").click()
    expect(page.locator("#landed")).to_have_text("/guarded", timeout=30_000)
    page.context.close()


def test_phone_viewport_and_keyboard_only(browser: Browser, server: Devserver, landing: str, screenshots: Path) -> None:
    page = _page(browser, server, "zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                 device_scale_factor=2)
    page.keyboard.press("Tab")  # the language links come first
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#url")).to_be_focused()
    page.keyboard.type(f"{landing}/phone")
    page.keyboard.press("Enter")
    expect(page.locator("#short-url")).to_be_visible()
    page.locator("#qr").evaluate("img => img.decode()")  # resolves once the QR image has loaded
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375  # nothing wider than the phone
    box = page.locator("#submit").bounding_box()
    assert box is not None and box["width"] >= 300
    page.screenshot(path=screenshots / "zh-CN-phone.png", full_page=True)
    page.context.close()


def test_page_passes_axe_accessibility_checks(browser: Browser, server: Devserver, landing: str) -> None:
    for locale in ("zh-CN", "en"):
        page = _page(browser, server, locale, bypass_csp=True)  # to inject axe itself
        _shorten(page, f"{landing}/a11y")
        expect(page.locator("#short-url")).to_be_visible()
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})")
        assert [v["id"] for v in found["violations"]] == [], found["violations"]
        assert found["passes"], "axe checked nothing"
        page.context.close()


def test_share_text_schemes_custom_dates_recent_links_and_a_fresh_result(browser: Browser, server: Devserver,
                                                                        landing: str, screenshots: Path) -> None:
    page = _page(browser, server, "zh-CN", accept_downloads=True)
    share = f"【小红书】快来看看这篇笔记 {landing}/note?id=42 复制本条信息，打开小红书App查看"
    _shorten(page, share)
    expect(page.locator("#destination")).to_have_text(f"{landing}/note?id=42")  # the link inside the share text
    expect(page.locator("#validity-shown")).to_have_text("30天")
    short = page.locator("#short-url").inner_text()
    assert page.locator("#short-url .nowrap").count() == len(short.split("/"))  # it breaks only after a slash
    _shorten(page, "example.com/no-scheme")
    expect(page.locator("#destination")).to_have_text("https://example.com/no-scheme")
    _shorten(page, "javascript:alert(1)")
    expect(page.locator("#result")).to_be_hidden()  # an error does not leave the last result standing
    page.locator("#validity").select_option("custom")
    page.locator("#expires_at").fill("2031-05-20T13:14")
    _shorten(page, f"{landing}/anniversary")
    expect(page.locator("#expires")).to_contain_text("2031年5月20日")
    assert page.locator("#expires").get_attribute("datetime") == "2031-05-20T05:14:00Z"  # Shanghai 13:14
    with page.expect_download() as poster:
        page.locator("#qr-downloads a[data-size='2048']").click()
    assert poster.value.suggested_filename == f"qr-{page.locator('#short-url').inner_text().rsplit('/', 1)[1]}.png"
    image = Image.open(io.BytesIO(Path(poster.value.path()).read_bytes()))
    assert image.size == (2048, 2048) and [r.text for r in zxingcpp.read_barcodes(image)] == [page.locator("#short-url").inner_text()]
    page.reload()
    expect(page.locator("#recent-links li")).to_have_count(3)  # kept in this browser, newest first
    expect(page.locator("#recent-links li").first).to_contain_text(f"{landing}/anniversary")
    page.context.close()
    dark = _page(browser, server, "en", color_scheme="dark", bypass_csp=True)
    _shorten(dark, f"{landing}/dark")
    expect(dark.locator("#short-url")).to_be_visible()
    dark.add_script_tag(path=str(AXE))
    found = dark.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})")
    failures = [(n["target"], n["failureSummary"][:160]) for v in found["violations"] for n in v["nodes"]]
    assert failures == []  # dark colours keep their contrast
    dark.screenshot(path=screenshots / "en-dark.png", full_page=True)
    dark.context.close()
