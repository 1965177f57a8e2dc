"""Reading requests from API Gateway proxy events: the REST API's (payload format 1.0) and the
HTTP API's (2.0: PublicApi) — method, route, headers, query, caller's address, bodies (JSON,
forms) — and shaping an answer for the format it came in."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from ..errors import BodyTooLarge, MalformedBody, UnsupportedMediaType

MAX_BODY_BYTES = 64 * 1024


def is_http_api(event: dict[str, Any]) -> bool:
    return event.get("version") == "2.0"


def _context(event: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = event.get("requestContext") or {}
    return context


def request_method(event: dict[str, Any]) -> str:
    if is_http_api(event):
        return str((_context(event).get("http") or {}).get("method", ""))
    return str(event.get("httpMethod") or "")


def route_path(event: dict[str, Any]) -> str:
    """The route's path as template.yaml declares it (/static/{asset}), not the request's."""
    if is_http_api(event):
        return str(event.get("routeKey") or "").partition(" ")[2]
    return str(event.get("resource") or "")


def request_path(event: dict[str, Any]) -> str:
    """The path the client asked for (/static/app.css)."""
    return str(event.get("rawPath") if is_http_api(event) else event.get("path") or "")


def source_ip(event: dict[str, Any]) -> str:
    """The caller's address as API Gateway reports it."""
    where = _context(event).get("http") if is_http_api(event) else _context(event).get("identity")
    return str((where or {}).get("sourceIp") or "")


def request_id(event: dict[str, Any], context: Any = None) -> str:
    """API Gateway's id of the request (the one it answers in x-amzn-RequestId / apigw-requestid),
    else the invocation's, else a new one: every answer and log line can name its request."""
    return str(_context(event).get("requestId") or getattr(context, "aws_request_id", "") or uuid.uuid4().hex)


def query_pairs(event: dict[str, Any]) -> list[tuple[str, str]]:
    """Every query parameter in order, repeated ones too."""
    if is_http_api(event):
        return parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True)
    multi = event.get("multiValueQueryStringParameters") or {}
    return [(key, value) for key, values in multi.items() for value in values]


def query_values(event: dict[str, Any]) -> dict[str, str]:
    """One value per query parameter, the last when repeated (as API Gateway's map keeps it)."""
    return dict(query_pairs(event))


def request_headers(event: dict[str, Any]) -> dict[str, str]:
    """The request's headers with lower-case names (API Gateway keeps the client's spelling);
    the HTTP API hands cookies apart: they are put back as the Cookie header."""
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    if is_http_api(event) and event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    return headers


def answer_for(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The response in the event's format: the HTTP API takes Set-Cookie as `cookies`; a HEAD
    request's answer is the GET's without its body."""
    if request_method(event) == "HEAD":
        response = {**response, "body": "", "isBase64Encoded": False}
    headers = response.get("headers") or {}
    if not is_http_api(event) or "Set-Cookie" not in headers:
        return response
    return {**response, "headers": {k: v for k, v in headers.items() if k != "Set-Cookie"}, "cookies": [headers["Set-Cookie"]]}


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
    """The event with its body checked and re-encoded as plain JSON text for the router, under
    the one Content-Type spelling the router's validation reads (it takes APPLICATION/JSON or
    application/merge-patch+json for no body at all, and fails)."""
    body = read_json_body(event)
    plain: dict[str, Any] = {**event, "body": json.dumps(body), "isBase64Encoded": False}
    for name, plain_value in (("headers", "application/json"), ("multiValueHeaders", ["application/json"])):
        if event.get(name):
            plain[name] = {key: value for key, value in event[name].items() if key.lower() != "content-type"}
            plain[name]["content-type"] = plain_value
    return plain
