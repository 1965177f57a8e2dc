"""The devserver itself: same events as API Gateway, keys, persistence, clean stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from devserver.gateway import build_event
from devserver.template import Template
from support import Devserver

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
                      lambda event, context: delivered.append(event) or {"batchItemFailures": []}, set())
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
