"""The two pages a followed link may answer with instead of a redirect: the "open in your
browser" guide for in-app browsers (WeChat, QQ, ...) and the preview for chat and social apps'
link-preview fetchers (Open Graph and Twitter card tags). Every text is escaped."""

from __future__ import annotations

import html
from string import Template
from typing import Any
from urllib.parse import urlsplit

from .i18n import MESSAGES, language_of
from .pages import TEMPLATES

GUIDE = Template((TEMPLATES / "guide.html").read_text(encoding="utf-8"))
PREVIEW = Template((TEMPLATES / "preview.html").read_text(encoding="utf-8"))
GUIDE_CSP = "default-src 'none'; style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'"
PREVIEW_CSP = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def _attribute(text: str) -> str:
    return html.escape(text, quote=True)


def guide_page(destination: str, app: str, platform: str, headers: dict[str, str]) -> dict[str, Any]:
    """The page an in-app browser gets on a `guide` link: where the link goes, a copy button, and
    the app's "··· → open in browser" step drawn for iOS or Android. The visit is already counted."""
    lang = language_of(headers)
    words = MESSAGES[lang]
    step = words["page.guide.step_ios" if platform == "ios" else "page.guide.step_android"]
    body = GUIDE.substitute(
        lang=lang, title=html.escape(words["page.guide.title"]), step=html.escape(step),
        why=html.escape(words["page.guide.why"].format(app=words.get(f"stats.app.{app}", app))),
        host_label=html.escape(words["page.guide.host"]), host=html.escape(urlsplit(destination).hostname or ""),
        copy_label=html.escape(words["page.guide.copy_label"]), url=_attribute(destination),
        copy=html.escape(words["page.guide.copy"]), copied=_attribute(words["page.guide.copied"]),
    )
    return {"statusCode": 200, "body": body, "headers": {
        "Content-Type": "text/html; charset=utf-8", "Content-Language": lang, "Cache-Control": "no-store",
        "Content-Security-Policy": GUIDE_CSP, "Vary": "Accept-Language, User-Agent", "Referrer-Policy": "no-referrer"}}


def preview_page(preview: dict[str, str], short_url: str) -> dict[str, Any]:
    """What a link-preview fetcher gets for a link with a preview: Open Graph and Twitter card tags."""
    extra = []
    if preview.get("description"):
        description = _attribute(preview["description"])
        extra += [f'<meta property="og:description" content="{description}">',
                  f'<meta name="description" content="{description}">',
                  f'<meta name="twitter:description" content="{description}">']
    if preview.get("image"):
        image = _attribute(preview["image"])
        extra += [f'<meta property="og:image" content="{image}">', f'<meta name="twitter:image" content="{image}">']
    body = PREVIEW.substitute(lang="und", title=_attribute(preview["title"]), short_url=_attribute(short_url),
                              extra="\n".join(extra), card="summary_large_image" if preview.get("image") else "summary")
    return {"statusCode": 200, "body": body, "headers": {
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Content-Security-Policy": PREVIEW_CSP,
        "X-Robots-Tag": "noindex"}}
