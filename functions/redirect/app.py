"""GET|HEAD|POST /{code}: one DynamoDB request, then a redirect or a problem answer.

The hot path: boto3 and the core only (no router, no pydantic), so cold starts stay short.
"""

from __future__ import annotations

import html
import logging
import os
import time
from pathlib import Path
from string import Template
from typing import Any

from shortlink.bodies import read_form_field
from shortlink.emf import emit
from shortlink.errors import PasswordRequired, ShortLinkError, TooManyAttempts
from shortlink.problems import problem_headers, problem_response
from shortlink.settings import load_settings
from shortlink.store import LinkStore
from shortlink.visits import destination, follow, redirect_cache_control, visit_facts

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))
_OUTCOMES = {301: "Redirects", 302: "Redirects", 303: "Redirects", 307: "Redirects", 308: "Redirects",
             404: "NotFoundHits", 410: "ExpiredHits", 503: "StoreFaults"}
PASSWORD_PAGE = Template((Path(__file__).parent / "pages" / "password.html").read_text(encoding="utf-8"))


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {key.lower(): value for key, value in (event.get("headers") or {}).items()}


def _query(event: dict[str, Any]) -> list[tuple[str, str]]:
    multi = event.get("multiValueQueryStringParameters") or {}
    return [(key, value) for key, values in multi.items() for value in values]


def _request_id(event: dict[str, Any], context: Any) -> str:
    return (event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", "") or str(time.time_ns())


def _password_page(error: ShortLinkError, code: str) -> dict[str, Any]:
    page = PASSWORD_PAGE.substitute(
        title="Protected link / 受保护的链接",
        message=html.escape(error.detail),
        message_class="" if type(error) is PasswordRequired else "error",
        action=html.escape(code),
    )
    headers = {**problem_headers(error), "Content-Type": "text/html; charset=utf-8",
               "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"}
    return {"statusCode": error.status, "headers": headers, "body": page}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = int(time.time())
    method = event.get("httpMethod")
    code = (event.get("pathParameters") or {}).get("code") or ""
    headers = _headers(event)
    facts = None if method == "HEAD" else visit_facts(
        headers.get("user-agent"), headers.get("referer"), _request_id(event, context), now)
    try:
        settings = load_settings()
        password = (read_form_field(event, "password") or "") if method == "POST" else None
        link = follow(LinkStore(settings.links_table), settings, headers.get("host"), code, now,
                      facts=facts, password=password)
    except (PasswordRequired, TooManyAttempts) as error:
        response = _password_page(error, code) if "text/html" in headers.get("accept", "") else problem_response(error)
    except ShortLinkError as error:
        response = problem_response(error)
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
