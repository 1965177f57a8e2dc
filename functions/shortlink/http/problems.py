"""RFC 9457 problem+json bodies and the API Gateway proxy responses that carry them."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidInput, ShortLinkError
from ..links.proofs import BITS

PROBLEM_TYPE_BASE = "https://shortlink.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def _text(value: str) -> str:
    """Echoed input (an unknown field's name) may hold a lone surrogate: never let it break the answer."""
    return value.encode("utf-8", "replace").decode("utf-8")


def problem_body(error: ShortLinkError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + error.slug,
        "title": error.title,
        "status": error.status,
        "detail": _text(error.detail),
    }
    if isinstance(error, InvalidInput):
        body["errors"] = [{"field": _text(e.field), "message": _text(e.message)} for e in error.errors]
    challenge = getattr(error, "challenge", None)
    if challenge:  # what a program needs to prove its work and guess again (links/proofs.py)
        body["challenge"], body["bits"] = challenge, BITS
    if error.request_id:
        body["request_id"] = error.request_id
    return body


def problem_headers(error: ShortLinkError) -> dict[str, str]:
    headers = {"Content-Type": PROBLEM_CONTENT_TYPE, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
               **error.headers}
    retry_after = getattr(error, "retry_after_seconds", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return headers


def problem_response(error: ShortLinkError) -> dict[str, Any]:
    """The whole Lambda proxy response for an error, for handlers without a router."""
    return {
        "statusCode": error.status,
        "headers": problem_headers(error),
        "body": json.dumps(problem_body(error), ensure_ascii=False),
    }
