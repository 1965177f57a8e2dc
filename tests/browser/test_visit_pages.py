"""The pages a short link may answer with instead of a redirect, in real Chromium: the "open in
your browser" page a WeChat visitor gets on a guide link, and the preview a chat app fetches."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, expect

from support import ROOT, Devserver

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WECHAT = {
    "ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
           "MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN",
    "android": "Mozilla/5.0 (Linux; Android 14; V2218A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 XWEB/1300259 MMWEBSDK/20241103 MicroMessenger/8.0.55",
}
STEPS = {("zh-CN", "ios"): "在 Safari 中打开", ("zh-CN", "android"): "在浏览器打开",
         ("en", "ios"): "Open in Safari", ("en", "android"): "Open in browser"}


@pytest.mark.parametrize("locale, system", [("zh-CN", "ios"), ("en", "android")])
def test_wechat_on_a_guide_link_sees_where_it_goes_and_copies_it(browser: Browser, server: Devserver, api: requests.Session,
                                                                 locale: str, system: str, screenshots: Path) -> None:
    destination = "https://apps.example/download/双十二?id=7"
    made = api.post(f"{server.url}/api/links", json={"url": destination, "in_app": "guide"}).json()
    phone = {"locale": locale, "user_agent": WECHAT[system], "viewport": {"width": 390, "height": 760}, "is_mobile": True,
             "has_touch": True, "extra_http_headers": {"Accept-Language": locale}}
    context = browser.new_context(**phone)  # type: ignore[arg-type]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    answer = page.goto(f"{server.url}/{made['code']}")
    assert answer is not None and answer.status == 200
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator(".guide-host")).to_have_text("apps.example")
    expect(page.locator(".guide-step")).to_contain_text(STEPS[(locale, system)])
    page.locator("#guide-copy").click()
    expect(page.locator("#guide-status")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == made["url"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / f"guide-{locale}-{system}.png"), full_page=True)
    context.close()
    checked = browser.new_context(**phone, bypass_csp=True)  # type: ignore[arg-type]  # the page's CSP admits its own scripts only
    page = checked.new_page()
    page.goto(f"{server.url}/{made['code']}")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})")
    assert [v["id"] for v in found["violations"]] == [], found["violations"]
    assert found["passes"], "axe checked nothing"
    checked.close()


def test_a_telegram_fetcher_gets_the_preview_and_chrome_the_redirect(browser: Browser, server: Devserver,
                                                                     api: requests.Session) -> None:
    title = 'Sale <b>"50%"</b> & more'
    made = api.post(f"{server.url}/api/links", json={"url": "https://shop.example/sale", "preview": {"title": title}}).json()
    fetcher = browser.new_context(user_agent="TelegramBot (like TwitterBot)")
    page = fetcher.new_page()
    page.goto(f"{server.url}/{made['code']}")
    assert page.locator('meta[property="og:title"]').get_attribute("content") == title  # escaped in the HTML, intact when read
    assert html.escape(title, quote=True) in page.content()
    fetcher.close()
    chrome = browser.new_context()
    answer = chrome.request.get(f"{server.url}/{made['code']}", max_redirects=0)
    assert answer.status == 302 and answer.headers["location"] == "https://shop.example/sale"
    chrome.close()
