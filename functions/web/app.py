"""GET / (the shorten page), GET /static/{asset} and GET /qr (QR code of one of our short URLs)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

from shortlink.errors import InvalidInput, RouteNotFound
from shortlink.http.boundary import guarded
from shortlink.http.i18n import LANGUAGES, MESSAGES, language_of
from shortlink.http.problems import problem_response
from shortlink.http.qrcodes import qr_image, size_of
from shortlink.http.requests import answer_for, query_values, request_headers, request_id, request_path, route_path
from shortlink.links.codes import looks_like_code
from shortlink.links.limits import numbers
from shortlink.settings import PRESETS, Settings, load_settings

HERE = Path(__file__).parent
INDEX = Template((HERE / "templates" / "index.html").read_text(encoding="utf-8"))
CONSOLE = Template((HERE / "templates" / "console.html").read_text(encoding="utf-8"))
# Every asset is read once per container; its content hash versions its URL, so browsers
# may keep it for a year and still never run a stale script.
ASSETS = {
    path.name: (path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream")
    for path in (HERE / "static").iterdir()
}
VERSIONS = {name: hashlib.sha256(data).hexdigest()[:12] for name, (data, _) in ASSETS.items()}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# The console shows QR codes it fetched with the API key (blob: images); nothing else differs.
CONSOLE_CSP = PAGE_CSP.replace("img-src 'self'", "img-src 'self' blob:")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
QR_PIXELS = 240
ONE_YEAR = 365 * 86400
# The texts app.js needs; the page itself is rendered in one language, nothing mixed.
SCRIPT_TEXTS = ("shorten", "shortening", "copied", "copy_failed", "never_expires")
# The forms' maxlength, min and max: the rules' own bounds (links/limits.py), never copies.
BOUNDS = {name: str(value) for name, value in numbers().items()}


def _options(values: list[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{html.escape(value)}"{" selected" if value == selected else ""}>{html.escape(label)}</option>'
        for value, label in values
    )


def _render(event: dict[str, Any], page: Template, csp: str, script_keys: Callable[[str], bool],
            fields: Callable[[dict[str, str]], dict[str, str]]) -> dict[str, Any]:
    """A page in the visitor's language: its texts, versioned assets, the texts its script needs."""
    headers = request_headers(event)
    query = query_values(event)
    lang = language_of(headers, query.get("lang"))
    texts = MESSAGES[lang]
    body = page.substitute(
        {key.replace(".", "_"): html.escape(value) for key, value in texts.items()},
        lang=lang,
        language_label=html.escape(texts["language"]),
        icon_url=_versioned("favicon.svg"),
        css_url=_versioned("app.css"),
        messages_json=html.escape(json.dumps({k: v for k, v in texts.items() if script_keys(k)}, ensure_ascii=False)),
        zh_current='aria-current="page"' if lang == "zh-CN" else "",
        en_current='aria-current="page"' if lang == "en" else "",
        **BOUNDS,
        **fields(texts),
    )
    response_headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Language": lang,
        "Cache-Control": "no-cache",
        "Vary": "Accept-Language, Cookie",
        "Content-Security-Policy": csp,
        **SECURITY_HEADERS,
    }
    if query.get("lang") in LANGUAGES:
        response_headers["Set-Cookie"] = f"lang={lang}; Path=/; Max-Age={ONE_YEAR}; SameSite=Lax"
    return {"statusCode": 200, "headers": response_headers, "body": body}


def _versioned(asset: str) -> str:
    return f"static/{asset}?v={VERSIONS[asset]}"


def _index(event: dict[str, Any]) -> dict[str, Any]:
    settings = load_settings()
    return _render(event, INDEX, PAGE_CSP, lambda key: key.startswith("error.") or key in SCRIPT_TEXTS,
                   lambda texts: {"js_url": _versioned("app.js"), **_choices(settings, texts)})


def _console(event: dict[str, Any]) -> dict[str, Any]:
    """GET /console: the signed-in console (console.js calls the /api routes with the user's key)."""
    settings = load_settings()
    return _render(event, CONSOLE, CONSOLE_CSP, lambda key: key.startswith(("error.", "console.", "stats.")) or key in ("copy", "copied"),
                   lambda texts: {"uplot_css_url": _versioned("uplot.min.css"), "uplot_js_url": _versioned("uplot.min.js"),
                                  "console_js_url": _versioned("console.js"), **_choices(settings, texts),
                                  "domain_filter_options": _options([(d, d) for d in settings.short_domains], ""),
                                  "validity_choices": _options([(v, texts[f"validity.{v}"]) for v in PRESETS], ""),
                                  "key_domain_choices": _domain_checks(settings)})


def _domain_checks(settings: Settings) -> str:
    """A checkbox per short domain (the keys form: none ticked is every domain)."""
    return "".join(f'<p class="check"><input type="checkbox" id="key-domain-{n}" value="{html.escape(d)}"> '
                   f'<label for="key-domain-{n}">{html.escape(d)}</label></p>' for n, d in enumerate(settings.short_domains))


def _choices(settings: Settings, texts: dict[str, str]) -> dict[str, str]:
    """The domain and validity options of a create form, the stack's defaults selected."""
    return {"domain_options": _options([(d, d) for d in settings.short_domains], settings.default_domain),
            "validity_options": _options([(v, texts[f"validity.{v}"]) for v in PRESETS], settings.default_validity)}


def _asset(event: dict[str, Any]) -> dict[str, Any]:
    name = (event.get("pathParameters") or {}).get("asset", "")
    if name not in ASSETS:
        raise RouteNotFound(f"no asset {name}")
    data, content_type = ASSETS[name]
    etag = f'"{VERSIONS[name]}"'
    # Kept a year only under its current version's URL; an unversioned one (the redirect's error
    # pages ask for static/app.css) is revalidated, so a new deploy's CSS shows at once.
    versioned = query_values(event).get("v") == VERSIONS[name]
    cache = f"public, max-age={ONE_YEAR}, immutable" if versioned else "no-cache"
    headers = {"Content-Type": f"{content_type}; charset=utf-8", "ETag": etag, "Cache-Control": cache, **SECURITY_HEADERS}
    if request_headers(event).get("if-none-match") == etag:
        return {"statusCode": 304, "headers": headers, "body": ""}
    return {"statusCode": 200, "headers": headers, "body": data.decode("utf-8")}


def _qr(event: dict[str, Any]) -> dict[str, Any]:
    """QR code of a short URL of this service only: it is not a QR generator for anything.
    SVG by default; `format=png&size=` (64-2048 px) for the page's poster downloads."""
    settings = load_settings()
    query = query_values(event)
    url = query.get("url", "")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ of an IPv6 address
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or parts.netloc.lower() not in settings.short_domains \
            or not looks_like_code(parts.path[1:]) or parts.query or parts.fragment:
        raise InvalidInput.single("url", "must be a short link of this service")
    image_format = query.get("format", "svg")
    image, content_type = qr_image(url, image_format, size_of(query.get("size", str(QR_PIXELS))))
    headers = {"Content-Type": content_type, "Cache-Control": "public, max-age=86400", **SECURITY_HEADERS}
    if image_format == "png":
        code = urlsplit(url).path[1:]
        headers["Content-Disposition"] = f'attachment; filename="qr-{code}.png"'
        return {"statusCode": 200, "headers": headers, "body": base64.b64encode(image).decode("ascii"), "isBase64Encoded": True}
    return {"statusCode": 200, "headers": headers, "body": image.decode("utf-8")}


def _favicon(event: dict[str, Any]) -> dict[str, Any]:
    """/favicon.ico, which browsers ask for by themselves: the SVG icon (browsers take it)."""
    return _asset({**event, "pathParameters": {"asset": "favicon.svg"}})


ROUTES = {"/": _index, "/console": _console, "/static/{asset}": _asset, "/qr": _qr, "/favicon.ico": _favicon}


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    route = ROUTES.get(route_path(event))
    if route is None:
        raise RouteNotFound(f"no page {request_path(event)}")
    return answer_for(event, route(event))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return guarded(lambda: _answer(event), problem_response, request_id(event, context))


