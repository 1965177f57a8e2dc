"""Reading request headers and bodies (JSON, forms) from API Gateway proxy events."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs

from ..errors import BodyTooLarge, MalformedBody, UnsupportedMediaType

MAX_BODY_BYTES = 64 * 1024


def request_headers(event: dict[str, Any]) -> dict[str, str]:
    """The request's headers with lower-case names (API Gateway keeps the client's spelling)."""
    return {key.lower(): value for key, value in (event.get("headers") or {}).items()}


def _content_type(event: dict[str, Any]) -> str:
    return (request_headers(event).get("content-type") or "").split(";", 1)[0].strip().lower()


def _is_json_type(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _raw_body(event: dict[str, Any]) -> bytes:
    raw = event.get("body") or ""
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
    except (binascii.Error, ValueError):
        raise MalformedBody("the body is not valid base64") from None
    if len(data) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is {len(data)} bytes; at most {MAX_BODY_BYTES} are accepted")
    return data


def read_form_field(event: dict[str, Any], name: str) -> str | None:
    """One field of an HTML form post (application/x-www-form-urlencoded) or of a JSON object."""
    media_type = _content_type(event)
    if _is_json_type(media_type):
        body = read_json_body(event)
        value = body.get(name) if isinstance(body, dict) else None
        return value if isinstance(value, str) else None
    if media_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("send a form (application/x-www-form-urlencoded) or JSON")
    try:
        fields = parse_qs(_raw_body(event).decode("utf-8"), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise MalformedBody("the form is not valid UTF-8 form data") from None
    return fields.get(name, [None])[0]


def read_json_body(event: dict[str, Any]) -> Any:
    """The parsed JSON body, or the 415/413/400 problem that explains why there is none."""
    if not _is_json_type(_content_type(event)):
        raise UnsupportedMediaType("send the body as application/json")
    data = _raw_body(event)
    if not data.strip():
        raise MalformedBody("a JSON object is required")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedBody("the body is not valid UTF-8 JSON") from None


def with_plain_json_body(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body checked and re-encoded as plain JSON text for the router."""
    body = read_json_body(event)
    return {**event, "body": json.dumps(body), "isBase64Encoded": False}
