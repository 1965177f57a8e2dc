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

from shortlink.bodies import read_form_field, request_headers
from shortlink.emf import emit
from shortlink.errors import (
    LinkGone,
    LinkNotFound,
    PasswordRequired,
    ShortLinkError,
    StoreUnavailable,
    TooManyAttempts,
    WrongPassword,
)
from shortlink.i18n import MESSAGES, language_of
from shortlink.problems import problem_headers, problem_response
from shortlink.settings import load_settings
from shortlink.store import LinkStore
from shortlink.visits import destination, follow, redirect_cache_control, visit_facts

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))
_OUTCOMES = {301: "Redirects", 302: "Redirects", 303: "Redirects", 307: "Redirects", 308: "Redirects",
             404: "NotFoundHits", 410: "ExpiredHits", 503: "StoreFaults"}
TEMPLATES = Path(__file__).parent / "templates"
PAGE = Template((TEMPLATES / "page.html").read_text(encoding="utf-8"))
PASSWORD_FORM = Template((TEMPLATES / "password-form.html").read_text(encoding="utf-8"))
# No form-action: browsers apply it to the redirect after the password post as well,
# and that redirect goes to the link's own site.
PAGE_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'"


def _query(event: dict[str, Any]) -> list[tuple[str, str]]:
    multi = event.get("multiValueQueryStringParameters") or {}
    return [(key, value) for key, values in multi.items() for value in values]


def _request_id(event: dict[str, Any], context: Any) -> str:
    return (event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", "") or str(time.time_ns())


def _page_texts(error: ShortLinkError) -> tuple[str, str, bool] | None:
    """(page, message key, with the password form) for errors a browser gets as a page."""
    if isinstance(error, (PasswordRequired, TooManyAttempts)):
        key = {WrongPassword: "wrong", TooManyAttempts: "too_many"}.get(type(error), "body")
        return "password", f"page.password.{key}", not isinstance(error, TooManyAttempts)
    if isinstance(error, LinkGone):
        return error.state, f"page.{error.state}.body", False
    if isinstance(error, LinkNotFound):
        return "not_found", "page.not_found.body", False
    if isinstance(error, StoreUnavailable):
        return "unavailable", "page.unavailable.body", False
    return None


def _error_response(error: ShortLinkError, headers: dict[str, str]) -> dict[str, Any]:
    """A page in the visitor's language for browsers; problem+json for API clients."""
    texts = _page_texts(error)
    if texts is None or "text/html" not in headers.get("accept", ""):
        return problem_response(error)
    page, message_key, with_form = texts
    lang = language_of(headers)
    words = MESSAGES[lang]
    form = PASSWORD_FORM.substitute(label=html.escape(words["page.password.label"]),
                                    submit=html.escape(words["page.password.submit"])) if with_form else ""
    body = PAGE.substitute(
        lang=lang,
        title=html.escape(words[f"page.{page}.title"]),
        message=html.escape(words[message_key]),
        message_class="form-error" if message_key.endswith(("wrong", "too_many")) else "",
        form=form,
        home=html.escape(words["page.home"]),
    )
    response_headers = {**problem_headers(error), "Content-Type": "text/html; charset=utf-8",
                        "Content-Language": lang, "Content-Security-Policy": PAGE_CSP, "Vary": "Accept, Accept-Language"}
    return {"statusCode": error.status, "headers": response_headers, "body": body}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = int(time.time())
    method = event.get("httpMethod")
    code = (event.get("pathParameters") or {}).get("code") or ""
    headers = request_headers(event)
    facts = None if method == "HEAD" else visit_facts(
        headers.get("user-agent"), headers.get("referer"), _request_id(event, context), now)
    try:
        settings = load_settings()
        password = (read_form_field(event, "password") or "") if method == "POST" else None
        link = follow(LinkStore(settings.links_table), settings, headers.get("host"), code, now,
                      facts=facts, password=password)
    except ShortLinkError as error:
        response = _error_response(error, headers)
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
