"""WebFunction: language choice, security headers, versioned assets, the QR route."""

from __future__ import annotations

import re

import pytest

from support import Invoke, MakeEvent, headers_of


@pytest.mark.parametrize(
    "accept, cookie, query, lang",
    [
        ("zh-CN,zh;q=0.9", None, "", "zh-CN"),
        ("zh-TW", None, "", "zh-CN"),
        ("en-GB,en;q=0.9", None, "", "en"),
        ("fr-FR, zh;q=0.5, en;q=0.4", None, "", "zh-CN"),
        ("de-DE", None, "", "en"),
        ("zh-CN", "lang=en", "", "en"),
        ("en", "lang=zh-CN", "?lang=en", "en"),
        ("en", "broken=\"cookie", "", "en"),
    ],
)
def test_language_comes_from_choice_cookie_then_accept_language(invoke: Invoke, make_event: MakeEvent, accept: str,
                                                               cookie: str | None, query: str, lang: str) -> None:
    headers = {"Accept-Language": accept, **({"Cookie": cookie} if cookie else {})}
    answer = invoke(make_event("GET", f"/{query}", headers=headers))
    assert answer["statusCode"] == 200
    assert f'<html lang="{lang}">' in answer["body"] and headers_of(answer)["Content-Language"] == lang
    other = "短网址有效期" if lang == "en" else "Valid for"
    assert other not in answer["body"]  # one language per screen
    if query:
        assert headers_of(answer)["Set-Cookie"].startswith(f"lang={lang};")


def test_page_has_a_strict_csp_and_no_inline_script(invoke: Invoke, make_event: MakeEvent) -> None:
    answer = invoke(make_event("GET", "/"))
    csp = headers_of(answer)["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", answer["body"], re.S)
    assert scripts == [""]  # one script element, empty: the code comes from static/app.js
    assert " style=" not in answer["body"] and "<style" not in answer["body"]
    assert headers_of(answer)["Cache-Control"] == "no-cache"


def test_assets_are_versioned_cached_and_revalidated(invoke: Invoke, make_event: MakeEvent) -> None:
    page = invoke(make_event("GET", "/"))["body"]
    js_url = re.search(r'src="(static/app\.js\?v=[0-9a-f]{12})"', page).group(1)
    asset = invoke(make_event("GET", "/" + js_url))
    assert asset["statusCode"] == 200 and "api/shorten" in asset["body"]
    assert headers_of(asset)["Content-Type"].startswith("text/javascript")
    assert "immutable" in headers_of(asset)["Cache-Control"]
    again = invoke(make_event("GET", "/static/app.js", headers={"If-None-Match": headers_of(asset)["ETag"]}))
    assert again["statusCode"] == 304
    # unversioned (the redirect's error pages link static/app.css): revalidated, never kept stale for a year
    assert headers_of(invoke(make_event("GET", "/static/app.css")))["Cache-Control"] == "no-cache"
    assert headers_of(invoke(make_event("GET", "/static/app.js?v=0123456789ab")))["Cache-Control"] == "no-cache"
    assert invoke(make_event("GET", "/static/secrets.py"))["statusCode"] == 404


@pytest.mark.parametrize("url", ["https://evil.example/abc", "https://s.example.com/api", "javascript:alert(1)",
                                 "https://s.example.com/abc?x=1", ""])
def test_qr_route_only_draws_our_short_links(invoke: Invoke, make_event: MakeEvent, url: str) -> None:
    from urllib.parse import quote

    assert invoke(make_event("GET", f"/qr?url={quote(url)}"))["statusCode"] == 422


def test_qr_route_draws_an_svg(invoke: Invoke, make_event: MakeEvent) -> None:
    answer = invoke(make_event("GET", "/qr?url=https%3A%2F%2Fgo.example.com%2FAbc1234"))
    assert answer["statusCode"] == 200 and headers_of(answer)["Content-Type"] == "image/svg+xml"
    assert answer["body"].startswith("<svg")


def test_qr_route_gives_poster_pngs_of_the_size_asked(invoke: Invoke, make_event: MakeEvent) -> None:
    import base64
    import io

    import zxingcpp
    from PIL import Image

    answer = invoke(make_event("GET", "/qr?url=https%3A%2F%2Fgo.example.com%2FAbc1234&format=png&size=2048"))
    assert answer["statusCode"] == 200 and headers_of(answer)["Content-Disposition"] == 'attachment; filename="qr-Abc1234.png"'
    image = Image.open(io.BytesIO(base64.b64decode(answer["body"])))
    assert image.size == (2048, 2048) and [r.text for r in zxingcpp.read_barcodes(image)] == ["https://go.example.com/Abc1234"]
    for bad in ("size=9999", "size=big", "format=gif"):
        assert invoke(make_event("GET", f"/qr?url=https%3A%2F%2Fgo.example.com%2FAbc1234&{bad}"))["statusCode"] == 422


def test_the_favicon_is_served_not_a_missed_redirect(invoke: Invoke, make_event: MakeEvent) -> None:
    page = invoke(make_event("GET", "/"))["body"]
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert icon and icon.group(1).startswith("static/favicon.svg?v=")
    answer = invoke(make_event("GET", "/favicon.ico"))  # what browsers ask for by themselves
    assert answer["statusCode"] == 200 and headers_of(answer)["Content-Type"].startswith("image/svg+xml")
    assert answer["body"].startswith("<svg")


@pytest.mark.parametrize("lang, title", [("zh-CN", "短链接控制台"), ("en", "Short links console")])
def test_console_is_one_page_of_versioned_vendored_assets_under_a_strict_csp(invoke: Invoke, make_event: MakeEvent,
                                                                              lang: str, title: str) -> None:
    answer = invoke(make_event("GET", f"/console?lang={lang}"))
    assert answer["statusCode"] == 200
    csp = headers_of(answer)["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "img-src 'self' blob:;" in csp and "connect-src 'self'" in csp
    page = answer["body"]
    assert f"<title>{title}</title>" in page and "<script>" not in page and "style=" not in page
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', page)
    assert {a.split("?")[0] for a in assets} == {"static/favicon.svg", "static/app.css", "static/uplot.min.css",
                                                 "static/uplot.min.js", "static/console.js"}
    assert all("?v=" in a for a in assets) and "http" not in "".join(assets)  # nothing from a CDN
    for asset in assets:
        assert invoke(make_event("GET", "/" + asset.split("?")[0]))["statusCode"] == 200
