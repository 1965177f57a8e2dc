"""GET|HEAD|POST /{code}: one DynamoDB write (a link read at most once per LINK_CACHE_SECONDS
per instance), then a redirect or an error answer.

The hot path: boto3 and the core's links and http rooms only (no router, no pydantic),
so cold starts stay short.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from shortlink import clock
from shortlink.errors import ShortLinkError
from shortlink.http.metrics import emit
from shortlink.http.pages import error_response
from shortlink.http.requests import read_form_field, request_headers
from shortlink.links.cache import shared
from shortlink.links.follow import destination, follow, redirect_cache_control, unlock, visit_facts
from shortlink.links.store import LinkStore
from shortlink.settings import load_settings
from shortlink.stats.visitors import visitor_id

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))
_OUTCOMES = {301: "Redirects", 302: "Redirects", 303: "Redirects", 307: "Redirects", 308: "Redirects",
             404: "NotFoundHits", 410: "ExpiredHits", 503: "StoreFaults"}


def _query(event: dict[str, Any]) -> list[tuple[str, str]]:
    multi = event.get("multiValueQueryStringParameters") or {}
    return [(key, value) for key, values in multi.items() for value in values]


def _source_ip(event: dict[str, Any]) -> str:
    """The visitor's address as API Gateway reports it (the client's, behind CloudFront too)."""
    return str(((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or "")


def _request_id(event: dict[str, Any], context: Any) -> str:
    return (event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", "") or uuid.uuid4().hex


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    moment = clock.now()
    now = int(moment)
    method = event.get("httpMethod")
    code = (event.get("pathParameters") or {}).get("code") or ""
    headers = request_headers(event)
    facts = None
    try:
        settings = load_settings()
        if method != "HEAD":
            source_ip = _source_ip(event)
            facts = visit_facts(headers.get("user-agent"), headers.get("referer"), _request_id(event, context), now,
                                headers.get("cloudfront-viewer-country"),
                                visitor_id(settings.visitor_pepper, source_ip, headers.get("user-agent")) if source_ip else None)
        store = LinkStore(settings.links_table)
        if method == "POST":
            assert facts is not None
            link = unlock(store, settings, headers.get("host"), code, moment, facts=facts,
                          password=read_form_field(event, "password") or "", visitor=source_ip)
        else:
            link = follow(store, settings, headers.get("host"), code, now, facts=facts, cache=shared(settings.link_cache_seconds))
    except ShortLinkError as error:
        response = error_response(error, headers)
    else:
        response = {
            "statusCode": link.redirect_status if method != "POST" else 303,
            "headers": {
                "Location": destination(link, headers.get("user-agent"), _query(event)),
                "Cache-Control": redirect_cache_control(link, now),
            },
            "body": "",
        }
    if method == "HEAD":
        response["body"] = ""
    outcome = {_OUTCOMES.get(response["statusCode"], "OtherAnswers"): 1}
    if facts and facts["bot"]:
        outcome["BotHits"] = 1
    emit(**outcome)
    return response
