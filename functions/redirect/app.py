"""GET|HEAD /{code}: one DynamoDB request, then a redirect or a problem answer.

The hot path: boto3 and the core only (no router, no pydantic), so cold starts stay short.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from shortlink.errors import ShortLinkError
from shortlink.problems import problem_response
from shortlink.settings import load_settings
from shortlink.store import LinkStore
from shortlink.visits import follow, redirect_cache_control

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = int(time.time())
    is_head = event.get("httpMethod") == "HEAD"
    code = (event.get("pathParameters") or {}).get("code") or ""
    try:
        settings = load_settings()
        link = follow(LinkStore(settings.links_table), settings, _header(event, "host"), code, now, count=not is_head)
    except ShortLinkError as error:
        response = problem_response(error)
    else:
        response = {
            "statusCode": link.redirect_status,
            "headers": {"Location": link.url, "Cache-Control": redirect_cache_control(link, now)},
            "body": "",
        }
    if is_head:
        response["body"] = ""
    return response
