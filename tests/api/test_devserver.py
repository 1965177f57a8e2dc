"""The devserver itself: same events as API Gateway, keys, persistence, clean stop."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from devserver.gateway import build_event
from devserver.template import Template
from support import ROOT, Devserver

BIN = Path(sys.executable).parent


def _keys(value: Any, prefix: str = "") -> set[str]:
    if not isinstance(value, dict):
        return set()
    found = set()
    for key, inner in value.items():
        found.add(prefix + key)
        found |= _keys(inner, f"{prefix}{key}.")
    return found


def _generated(kind: str) -> dict[str, Any]:
    """`sam local generate-event apigateway <kind>`: the event shape SAM CLI knows."""
    sample = subprocess.run(
        [str(BIN / "sam"), "local", "generate-event", "apigateway", kind],
        capture_output=True, text=True, env={**os.environ, "SAM_CLI_TELEMETRY": "0"}, check=True,
    )
    generated: dict[str, Any] = json.loads(sample.stdout[sample.stdout.index("{"):])
    return generated


def test_events_have_every_field_of_sam_generate_event(template: Template) -> None:
    reference = _generated("aws-proxy")
    route = next(r for r in template.routes() if r.public_path == "/api/links/{code}" and r.method == "GET")
    assert route.payload == "1.0"  # the REST API
    ours = build_event(route, "GET", "/api/links/abc?x=1&x=2", [("Host", "h"), ("Accept", "a")], b"", "127.0.0.1", None)
    # free-form maps (headers, query, path parameters, stage variables) hold the request's own names
    free_form = ("headers.", "multiValueHeaders.", "queryStringParameters.", "multiValueQueryStringParameters.",
                 "pathParameters.", "stageVariables.")
    missing = {k for k in _keys(reference) - _keys(ours) if not k.startswith(free_form)}
    assert not missing
    assert ours["pathParameters"] == {"code": "abc"}
    assert ours["multiValueQueryStringParameters"] == {"x": ["1", "2"]} and ours["queryStringParameters"] == {"x": "2"}
    # as a short domain's "api" mapping delivers it: the path as asked, the API's own resource
    assert ours["path"] == ours["requestContext"]["path"] == "/api/links/abc" and ours["resource"] == "/links/{code}"


def test_http_api_events_have_every_field_of_sam_generate_event(template: Template) -> None:
    reference = _generated("http-api-proxy")
    route = next(r for r in template.routes() if r.path == "/{code}" and r.method == "GET")
    assert route.payload == "2.0"  # PublicApi, the HTTP API
    ours = build_event(route, "GET", "/abc?x=1&x=2", [("Host", "h"), ("Cookie", "lang=en; a=b"), ("Accept", "a")], b"",
                       "127.0.0.1", None)
    free_form = ("headers.", "queryStringParameters.", "pathParameters.", "stageVariables.")
    # no authorizer on PublicApi; no stage variables; the body only when there is one
    absent = {"requestContext.authentication", "requestContext.authorizer", "stageVariables", "body"}
    missing = {k for k in _keys(reference) - _keys(ours) if not k.startswith(free_form) and k.split(".")[0] + (
        "." + k.split(".")[1] if k.startswith("requestContext.") else "") not in absent}
    assert not missing
    assert ours["pathParameters"] == {"code": "abc"} and ours["routeKey"] == "GET /{code}"
    assert ours["queryStringParameters"] == {"x": "1,2"} and ours["rawQueryString"] == "x=1&x=2"
    assert ours["cookies"] == ["lang=en", "a=b"] and "cookie" not in ours["headers"] and ours["headers"]["accept"] == "a"


def test_links_and_the_generated_key_survive_a_restart(tmp_path: Path) -> None:
    # the same short domain across restarts, whatever port each run gets
    first = Devserver(tmp_path, SHORT_DOMAINS="keep.example").start()
    key = first.api_key
    assert len(key) >= 20 and (tmp_path / "api-key").read_text().strip() == key
    made = requests.post(f"{first.url}/api/links", json={"url": "https://example.com/kept", "alias": "kept-link"},
                         headers={"x-api-key": key})
    assert made.status_code == 201
    assert first.stop() == 0  # SIGINT, as Ctrl-C sends
    assert first.output[-1] == "stopped\n"

    second = Devserver(tmp_path, SHORT_DOMAINS="keep.example").start()
    try:
        assert second.api_key == key
        follow = requests.get(f"{second.url}/kept-link", allow_redirects=False)
        assert follow.status_code == 302 and follow.headers["Location"] == "https://example.com/kept"
    finally:
        assert second.stop() == 0


def test_stream_events_have_every_field_of_sam_generate_event(template: Template, dynamodb: Any) -> None:
    from devserver.streams import StreamPump

    sample = subprocess.run(
        [str(BIN / "sam"), "local", "generate-event", "dynamodb", "update"],
        capture_output=True, text=True, env={**os.environ, "SAM_CLI_TELEMETRY": "0"}, check=True,
    )
    reference = json.loads(sample.stdout[sample.stdout.index("{"):])["Records"][1]  # the MODIFY record
    delivered: list[dict[str, Any]] = []
    subscription = next(s for s in template.stream_subscriptions() if s.function == "StatsFunction")
    pump = StreamPump(dynamodb.meta.endpoint_url, dynamodb, subscription,
                      lambda event, context: delivered.append(event) or {"batchItemFailures": [], "state": {}}, set())
    key = {"link_id": {"S": "s.example.com/stream-shape"}}
    dynamodb.put_item(TableName="LinksTable", Item={**key, "visits": {"N": "0"}})
    dynamodb.update_item(TableName="LinksTable", Key=key, UpdateExpression="ADD visits :one",
                         ExpressionAttributeValues={":one": {"N": "1"}})
    pump.poll()
    records = [r for event in delivered for r in event["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]  # link.created comes from the INSERT
    modify = records[1]
    images = ("dynamodb.Keys.", "dynamodb.NewImage.", "dynamodb.OldImage.")
    missing = {k for k in _keys(reference) - _keys(modify) if not k.startswith(images)}
    assert not missing
    assert isinstance(modify["dynamodb"]["ApproximateCreationDateTime"], int)
    assert modify["dynamodb"]["NewImage"]["visits"] == {"N": "1"}


def _raw(server: Devserver, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (what no HTTP library would send) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n", 431),
    (b"POST /api/shorten HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n", 400),
    (b"POST /api/shorten HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /api/shorten HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413),
    (b"GARBAGE\r\n\r\n", 400),
])
def test_its_own_refusals_are_problems_too(server: Devserver, request_bytes: bytes, status: int) -> None:
    got, headers, body = _raw(server, request_bytes)
    assert got == status and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == status


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PURGE", "PROPFIND"])
def test_any_method_is_answered_by_the_routes(server: Devserver, method: str) -> None:
    got, headers, body = _raw(server, f"{method} /anything HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert got == 404 and headers["content-type"] == "application/problem+json" and json.loads(body)["status"] == 404


def test_throttles_and_quotas_are_the_templates(tmp_path: Path) -> None:
    """The anonymous create is throttled at 5 a second with bursts of 10 (template.yaml); the
    429 is API Gateway's THROTTLED answer; DEVSERVER_THROTTLES=off lifts it for benchmarks."""
    throttled = Devserver(tmp_path / "on").start()
    try:
        statuses = [requests.post(f"{throttled.url}/api/shorten", json={"url": "https://example.com/t"}) for _ in range(30)]
    finally:
        throttled.stop()
    refused = [answer for answer in statuses if answer.status_code == 429]
    assert 10 <= sum(answer.status_code == 201 for answer in statuses) <= 15 and refused
    assert refused[0].headers["Retry-After"] == "1" and refused[0].json()["type"].endswith("/throttled")
    free = Devserver(tmp_path / "off", DEVSERVER_THROTTLES="off").start()
    try:
        assert all(requests.post(f"{free.url}/api/shorten", json={"url": "https://example.com/t"}).status_code == 201
                   for _ in range(30))
    finally:
        free.stop()


def test_x_forwarded_for_is_trusted_only_when_told(tmp_path: Path, template: Template, handlers: object) -> None:
    """The client's address decides password back-offs and unique visitors: a caller may not name
    its own unless TRUST_FORWARDED=1 (as the tests do, to play many addresses)."""
    # A Gateway imports every app.py once per process; `handlers` makes that import happen under
    # the template's environment, as the devserver's start does (else Metrics keep no namespace).
    from devserver.gateway import Gateway

    seen: list[str] = []
    for trust in (False, True):
        gateway = Gateway(template, set(), trust_forwarded=trust)
        gateway.handlers = {name: (lambda event, context: seen.append(event["requestContext"]["http"]["sourceIp"])
                                   or {"statusCode": 204, "body": ""}) for name in gateway.handlers}
        gateway.handle("GET", "/abcdefg", [("X-Forwarded-For", "203.0.113.9, 10.0.0.1")], b"", "127.0.0.1")
    assert seen == ["127.0.0.1", "203.0.113.9"]


def test_a_bad_setting_stops_the_start_with_one_line_naming_it(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "devserver"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "DEVSERVER_DATA": str(tmp_path), "PORT": "0", "STATS_TIME_ZONE": "Asia/Shangai"})
    assert run.returncode == 2 and "Ready" not in run.stdout
    assert run.stderr.strip().splitlines() == [run.stderr.strip()] and "'Asia/Shangai'" in run.stderr
