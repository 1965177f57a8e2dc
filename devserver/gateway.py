"""A local stand-in for API Gateway's REST API: routes from template.yaml, API keys,
the proxy event that API Gateway sends, and the handler invoked in-process."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .template import Function, Route, Template
from .throttles import Throttles

log = logging.getLogger("devserver.gateway")
STAGE = "prod"
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's own request limit


def api_key_id(key: str) -> str:
    """A stable id per key, as API Gateway gives in requestContext.identity.apiKeyId."""
    return "local" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    timeout_seconds: int = 10

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{self.function_name}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_module(function: Function) -> ModuleType:
    """Import a function's handler module under a unique name (every function has an app.py)."""
    unique = f"devserver_fn_{function.name}"
    if unique in sys.modules:
        return sys.modules[unique]
    module_name = function.handler.rsplit(".", 1)[0]
    path = function.code_dir / (module_name.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(unique, path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def load_handler(function: Function) -> Handler:
    handler: Handler = getattr(load_module(function), function.handler.rsplit(".", 1)[1])
    return handler


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value  # API Gateway keeps the last value in the single-value map
        multi.setdefault(key, []).append(value)
    return single, multi


def _is_binary(content_type: str, binary_types: list[str]) -> bool:
    """API Gateway base64-encodes a request body whose Content-Type matches BinaryMediaTypes."""
    media = content_type.split(";", 1)[0].strip().lower() or "*/*"
    for pattern in binary_types:
        kind, _, sub = pattern.lower().partition("/")
        if kind in ("*", media.split("/")[0]) and sub in ("*", media.partition("/")[2]):
            return True
    return False


def _encode_body(body: bytes, binary: bool) -> tuple[str, bool]:
    if not binary:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass  # not text after all: pass it on base64-encoded rather than mangled
    return base64.b64encode(body).decode("ascii"), True


def build_event(route: Route, method: str, raw_path: str, header_pairs: list[tuple[str, str]], body: bytes,
                source_ip: str, api_key: str | None, binary_types: list[str] = []) -> dict[str, Any]:  # noqa: B006
    """The proxy event of the route's API: the REST API's (1.0), shaped like `sam local
    generate-event apigateway aws-proxy`, or the HTTP API's (2.0, `... http-api-proxy`)."""
    if route.payload == "2.0":
        return build_http_api_event(route, method, raw_path, header_pairs, body, source_ip)
    split = urlsplit(raw_path)
    path = unquote(split.path)
    headers, multi_headers = _multi(header_pairs)
    query, multi_query = _multi(parse_qsl(split.query, keep_blank_values=True))
    params = route.match(method, path) or None
    now = time.time()
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    text, is_base64 = _encode_body(body, _is_binary(lower.get("content-type", ""), binary_types))
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": method,
            "path": path,  # on a custom domain: the path as asked, its mapping's base path included
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "domainName": lower.get("host", "127.0.0.1"),
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": lower.get("user-agent"),
                "apiKey": api_key,
                "apiKeyId": api_key_id(api_key) if api_key else None,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "accessKey": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
        },
        "body": text if body else None,
        "isBase64Encoded": is_base64,
    }


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The HTTP API's maps: a name given more than once has its values joined by commas."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def build_http_api_event(route: Route, method: str, raw_path: str, header_pairs: list[tuple[str, str]], body: bytes,
                         source_ip: str) -> dict[str, Any]:
    """The HTTP API's payload format 2.0: header names lower-cased, repeated headers and query
    values joined by commas, cookies apart, a body that is not UTF-8 text base64-encoded."""
    split = urlsplit(raw_path)
    path = unquote(split.path)
    cookies = [c.strip() for name, value in header_pairs if name.lower() == "cookie" for c in value.split(";") if c.strip()]
    headers = _joined((name.lower(), value) for name, value in header_pairs if name.lower() != "cookie")
    query = _joined(parse_qsl(split.query, keep_blank_values=True))
    now = time.time()
    text, is_base64 = _encode_body(body, False)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": path,
        "rawQueryString": split.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": headers.get("user-agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": route.key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    params = route.match(method, path)
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = text
    return event


# The devserver's own routes (not API Gateway's, not in template.yaml): what tests ask of it.
DEVSERVER_PREFIX = "/_devserver/"
DRAIN_TIMEOUT = 30.0


class Gateway:
    def __init__(self, template: Template, api_keys: set[str], drained: Callable[[float], bool] | None = None, *,
                 throttles: Throttles | None = None, trust_forwarded: bool = False) -> None:
        self.drained = drained  # waits until the stream has been delivered (StreamPump.wait_drained)
        self.throttles = throttles
        # Behind CloudFront, API Gateway reports the client's address from X-Forwarded-For; a
        # devserver reached directly must not let any caller name its own (TRUST_FORWARDED=1 does).
        self.trust_forwarded = trust_forwarded
        self.routes = template.routes()
        self.functions = template.functions()
        self.binary_types = template.binary_media_types()
        self.api_keys = api_keys
        self.gateway_responses = template.gateway_responses()
        self.handlers = {name: load_handler(fn) for name, fn in self.functions.items()
                         if any(name in (r.function, r.authorizer) for r in self.routes)}
        # One instance per function, taking one request at a time as a Lambda instance does:
        # a handler may keep per-request state in module globals (Powertools' resolver does).
        self.instances = {name: threading.Lock() for name in self.handlers}

    def find(self, method: str, path: str) -> Route | None:
        return next((r for r in self.routes if r.match(method, path) is not None), None)

    def handle(self, method: str, raw_path: str, header_pairs: list[tuple[str, str]], body: bytes,
               source_ip: str) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request in, one response out, with API Gateway's own answers for its own errors."""
        if len(body) > MAX_PAYLOAD:
            return self.gateway_error("REQUEST_TOO_LARGE", 413, "Request Too Long")
        if urlsplit(raw_path).path == DEVSERVER_PREFIX + "drained" and method == "POST":
            done = self.drained is None or self.drained(DRAIN_TIMEOUT)
            return (200 if done else 504), [("Content-Type", "application/json")], json.dumps({"drained": done}).encode()
        route = self.find(method, unquote(urlsplit(raw_path).path))
        if route is None:
            return self.gateway_error("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
        api_key = next((v for k, v in header_pairs if k.lower() == "x-api-key"), None)
        granted: dict[str, Any] | None = None
        if route.authorizer:  # the key source is the authorizer: it names the usage key (no cache: a revoked key is out at once)
            decided = self.authorize(route, method, raw_path, header_pairs, source_ip, api_key)
            if isinstance(decided, tuple):
                return decided
            api_key, granted = decided.get("usageIdentifierKey"), {**decided.get("context", {}), "principalId": decided["principalId"]}
        # A managed key's usage key is made in the usage plan on AWS; here the plan is the local keys.
        if route.api_key_required and api_key not in self.api_keys and not (granted and granted.get("key_id")):
            return self.gateway_error("INVALID_API_KEY", 403, "Forbidden")
        refused = self.throttles.refusal(route, api_key) if self.throttles else None
        if refused:
            return self.gateway_error(refused, 429, "Too Many Requests")
        forwarded = next((v for k, v in header_pairs if k.lower() == "x-forwarded-for"), "") if self.trust_forwarded else ""
        client_ip = forwarded.split(",")[0].strip() or source_ip
        event = build_event(route, method, raw_path, header_pairs, body, client_ip, api_key, self.binary_types)
        if granted is not None:
            event["requestContext"]["authorizer"] = granted
        context = LambdaContext(route.function, event["requestContext"]["requestId"])
        try:
            with self.instances[route.function]:
                result = self.handlers[route.function](event, context)
        except Exception:
            log.exception("%s raised", route.function)
            return self.gateway_error("INTEGRATION_FAILURE", 502, "Internal server error")
        return _from_proxy_result(result)

    def authorize(self, route: Route, method: str, raw_path: str, header_pairs: list[tuple[str, str]],
                  source_ip: str, api_key: str | None) -> dict[str, Any] | tuple[int, list[tuple[str, str]], bytes]:
        """The route's REQUEST authorizer, as API Gateway calls it: its answer, or API Gateway's
        own answer when it refuses (401) or fails (AUTHORIZER_FAILURE). `api_key`: the request's
        x-api-key, the authorizer's identity source."""
        assert route.authorizer is not None
        if not api_key:  # its identity source absent: 401, the authorizer uncalled
            return self.gateway_error("UNAUTHORIZED", 401, "Unauthorized")
        request = build_event(route, method, raw_path, header_pairs, b"", source_ip, None)
        event = {"type": "REQUEST", "methodArn": f"arn:aws:execute-api:local:000000000000:local/{STAGE}/{method}{route.path}",
                 **{k: request[k] for k in ("resource", "path", "httpMethod", "headers", "multiValueHeaders",
                                            "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
                                            "stageVariables", "requestContext")}}
        try:
            with self.instances[route.authorizer]:
                answer: dict[str, Any] = self.handlers[route.authorizer](event, LambdaContext(route.authorizer, str(uuid.uuid4())))
        except Exception as refused:
            if str(refused) == "Unauthorized":
                return self.gateway_error("UNAUTHORIZED", 401, "Unauthorized")
            log.exception("%s raised", route.authorizer)
            return self.gateway_error("AUTHORIZER_FAILURE", 500, "Authorizer error")
        allowed = any(s.get("Effect") == "Allow" for s in answer.get("policyDocument", {}).get("Statement", []))
        return answer if allowed else self.gateway_error("ACCESS_DENIED", 403, "User is not authorized to access this resource")

    def gateway_error(self, kind: str, status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
        """API Gateway's own answer of this kind: the template's GatewayResponses (the type's own,
        else DEFAULT_4XX/5XX), else API Gateway's default {"message": ...}."""
        fallback = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        spec = self.gateway_responses.get(kind) or self.gateway_responses.get(fallback)
        if spec is None:
            return status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode()
        headers = [(name, value.strip("'")) for name, value in spec.get("ResponseParameters", {}).get("Headers", {}).items()]
        body = spec.get("ResponseTemplates", {}).get("application/json", "")
        body = body.replace("$context.error.messageString", json.dumps(message)).replace("$context.error.message", message)
        return int(spec.get("StatusCode", status)), headers, body.encode()


def _from_proxy_result(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = list((result.get("headers") or {}).items())
    headers += [("Set-Cookie", cookie) for cookie in result.get("cookies") or []]  # the HTTP API's format
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((key, v) for v in values if (key, v) not in headers)
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    return int(result["statusCode"]), headers, body


def make_http_server(gateway: Gateway, port: int) -> ThreadingHTTPServer:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "shortlink-devserver"

        def _serve(self) -> None:
            text = (self.headers.get("Content-Length") or "0").strip()
            if not (text.isascii() and text.isdigit()):
                self.send_error(400, "Bad Request", f"Content-Length must be a number of bytes, not {text[:40]!r}")
                return
            if int(text) > MAX_PAYLOAD:  # refused unread, as API Gateway refuses it
                self.close_connection = True
                self._send(*gateway.gateway_error("REQUEST_TOO_LARGE", 413, "Request Too Long"))
                return
            body = self.rfile.read(int(text)) if int(text) else b""
            self._send(*gateway.handle(self.command, self.path, list(self.headers.items()), body, self.client_address[0]))

        def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response(status)
            for key, value in headers:
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def __getattr__(self, name: str) -> Any:
            # Every method (TRACE, CONNECT, PURGE ...) goes to the gateway, whose routes decide:
            # no route is its 404 problem, as API Gateway answers.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's own refusals (a request line or headers too long, a malformed
            request) as problem+json, like every other answer; the connection is closed."""
            title = message or self.responses.get(code, ("Error",))[0]
            payload = json.dumps({"type": "about:blank", "title": title, "status": code,
                                  "detail": explain or self.responses.get(code, ("", title))[1]}).encode()
            self.close_connection = True
            if self.request_version == "HTTP/0.9":  # a request line http.server could not read: answer as HTTP/1.0
                self.request_version = "HTTP/1.0"
            self.send_response(code, title)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), format % args)

    return _Server(("127.0.0.1", port), RequestHandler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets bursts of concurrent clients.
    request_queue_size = 256


