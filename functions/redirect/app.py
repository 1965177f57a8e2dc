"""GET|HEAD|POST /{code}: one DynamoDB write (a link read at most once per LINK_CACHE_SECONDS
per instance), then a redirect or an error answer.

The hot path: boto3 and the core's links and http rooms only (no router, no pydantic),
so cold starts stay short.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from shortlink import clock
from shortlink.clock import SECOND
from shortlink.errors import NotStored
from shortlink.http.boundary import guarded
from shortlink.http.metrics import emit
from shortlink.http.pages import error_response
from shortlink.http.requests import query_pairs, read_form_field, request_headers, request_id, request_method, source_ip
from shortlink.http.visit_pages import guide_page, preview_page
from shortlink.links.cache import shared
from shortlink.links.catalogue import Catalogue
from shortlink.links.follow import Guess, country_code, destination, ended_refusal, follow, redirect_cache_control, unlock, visit_facts
from shortlink.links.routing import Visitor
from shortlink.links.store import LinkStore
from shortlink.links.useragent import in_app, is_preview_fetcher, platform
from shortlink.settings import load_settings
from shortlink.stats.visitors import network_of, visitor_id

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))
# The answers worth a metric line. A plain redirect writes no log line at all: its count is API
# Gateway's (PublicApi's Count by route), and a line per redirect would cost about a third of a
# dollar per million in CloudWatch Logs (docs/scale-and-cost.md).
_OUTCOMES = {404: "NotFoundHits", 410: "ExpiredHits", 429: "ThrottledGuesses", 503: "StoreFaults"}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _country(header: str | None, address: str | None) -> str | None:
    """The visitor's country, for a link with a country rule: CloudFront's header, else the
    IP-to-country table of the core layer (read at its first lookup, only on this path)."""
    given = country_code(header)
    if given or not address:
        return given
    from shortlink.stats.countries import COUNTRIES

    return COUNTRIES.of(network_of(address))


def _answer(event: dict[str, Any], method: str, headers: dict[str, str], request: str) -> dict[str, Any]:
    now = clock.now()
    code = (event.get("pathParameters") or {}).get("code") or ""
    settings = load_settings()
    user_agent = headers.get("user-agent")
    address = source_ip(event)
    facts = None
    if method != "HEAD":
        facts = visit_facts(user_agent, headers.get("referer"), request, now,
                            headers.get("cloudfront-viewer-country"),
                            visitor_id(settings.visitor_pepper, address, user_agent) if address else None,
                            network_of(address) if address else None)
    previewer = method != "POST" and is_preview_fetcher(user_agent)
    store = LinkStore.of(settings)
    try:
        if method == "POST":
            assert facts is not None
            guess = Guess(read_form_field(event, "password") or "", address or "", read_form_field(event, "challenge") or "",
                          read_form_field(event, "proof") or "")
            link = unlock(store, settings, headers.get("host"), code, now, facts=facts, guess=guess)
        else:
            link = follow(store, settings, headers.get("host"), code, now, facts=facts,
                          cache=shared(settings.link_cache_seconds * SECOND), previewer=previewer)
    except NotStored:  # its last life may have ended: 410 until its retention ends
        raise ended_refusal(Catalogue.of(settings), settings, headers.get("host"), code, now) from None
    if previewer and link.preview:
        return preview_page(link.preview, settings.short_url(link.domain, link.code))
    visitor = Visitor(user_agent, headers.get("accept-language"), query_pairs(event), now,
                      lambda: _country(headers.get("cloudfront-viewer-country"), address))
    location = destination(link, visitor)
    app = in_app(user_agent)
    if app is not None and (link.in_app or settings.in_app_default) == "guide":
        return guide_page(location, app, platform(user_agent), headers)  # in-app browsers block many sites
    return {
        "statusCode": link.redirect_status if method != "POST" else 303,
        "headers": {"Location": location, "Cache-Control": redirect_cache_control(link, now)},
        "body": "",
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method = request_method(event)
    headers = request_headers(event)
    request = request_id(event, context)
    response = guarded(lambda: _answer(event, method, headers, request), lambda error: error_response(error, headers), request)
    if method == "HEAD":
        response["body"] = ""
    if response["statusCode"] not in _REDIRECTS:
        emit(**{_OUTCOMES.get(response["statusCode"], "OtherAnswers"): 1})
    return response
