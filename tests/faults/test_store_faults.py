"""DynamoDB faults injected into every handler: 503 + Retry-After + problem+json, never a
wrong 404, nothing half-written, and a retried create that succeeds exactly once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from devserver.gateway import LambdaContext
from shortlink.dynamodb import client as dynamodb_client
from shortlink.links.cache import shared
from shortlink.links.store import PUT_RESENDS
from support import (
    OTHER_KEY,
    Invoke,
    MakeEvent,
    alias,
    drain_stream,
    headers_of,
    late_writes,
    link_count,
    load_event,
    lost_answers,
    problem_of,
    store_faults,
    stored_item,
)

FAULTS = [{"code": "ProvisionedThroughputExceededException"}, {"code": "ThrottlingException"},
          {"code": "InternalServerError"}, {"code": "ServiceUnavailable"}, {"timeout": True}]


def _unavailable(answer: dict[str, Any]) -> None:
    assert int(headers_of(answer)["Retry-After"]) >= 1
    if answer["body"]:  # HEAD answers carry no body
        problem_of(answer, 503)
    else:
        assert answer["statusCode"] == 503 and headers_of(answer)["Content-Type"] == "application/problem+json"


@pytest.fixture()
def link(invoke: Invoke, make_event: MakeEvent) -> str:
    code = "f-" + uuid.uuid4().hex[:8]
    assert invoke(make_event("POST", "/api/links", {"url": "https://example.com/f", "alias": code}))["statusCode"] == 201
    return code


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.get("code", "timeout"))
def test_every_route_answers_503_on_a_store_fault(invoke: Invoke, make_event: MakeEvent, link: str, fault: dict[str, Any]) -> None:
    requests = [
        ("PutItem", make_event("POST", "/api/links", {"url": "https://example.com/x"})),
        ("PutItem", make_event("POST", "/api/shorten", {"url": "https://example.com/x"})),
        ("GetItem", make_event("GET", f"/{link}")),  # the redirect reads its link (no copy yet) ...
        ("UpdateItem", make_event("GET", f"/{link}")),  # ... and writes the visit, on a counter
        ("GetItem", make_event("HEAD", f"/{link}")),
        ("Query", make_event("GET", "/api/links")),
        ("GetItem", make_event("GET", f"/api/links/{link}")),
        ("GetItem", make_event("PATCH", f"/api/links/{link}", {"title": "x"})),  # the link as it is, then ...
        ("TransactWriteItems", make_event("PATCH", f"/api/links/{link}", {"title": "x"})),  # ... it and its counters' fence
        ("GetItem", make_event("DELETE", f"/api/links/{link}")),
        ("TransactWriteItems", make_event("DELETE", f"/api/links/{link}")),
        ("GetItem", make_event("GET", f"/api/links/{link}/stats")),
        ("Query", make_event("GET", f"/api/links/{link}/stats")),
        ("GetItem", make_event("GET", f"/api/links/{link}/qr")),
    ]
    for operation, event in requests:
        shared.cache_clear()  # as on a new instance: the redirect has no copy of the link
        with store_faults(dynamodb_client(), operation, **fault) as failed:
            answer = invoke(event)
        assert failed, f"{operation} was not called by {event['httpMethod']} {event['path']}"
        _unavailable(answer)
    # nothing was lost: the link is still there, unchanged
    assert json.loads(invoke(make_event("GET", f"/api/links/{link}"))["body"])["title"] is None


def test_a_faulted_redirect_is_never_a_404_even_for_browsers(invoke: Invoke, make_event: MakeEvent, link: str) -> None:
    with store_faults(dynamodb_client(), "UpdateItem"):
        answer = invoke(make_event("GET", f"/{link}", headers={"Accept": "text/html"}))
    assert answer["statusCode"] == 503 and "Retry-After" in headers_of(answer)
    assert "text/html" in headers_of(answer)["Content-Type"]


def test_batch_items_fail_alone_on_a_fault(invoke: Invoke, make_event: MakeEvent) -> None:
    items = [{"url": f"https://example.com/{i}"} for i in range(3)]
    with store_faults(dynamodb_client(), "PutItem", "LinksTable", times=PUT_RESENDS + 1):
        answer = invoke(make_event("POST", "/api/links/batch", {"links": items}))
    assert [r["status"] for r in json.loads(answer["body"])["results"]] == [503, 201, 201]


def test_retried_create_after_a_fault_succeeds_exactly_once(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"url": "https://example.com/retry", "tags": [uuid.uuid4().hex[:8]]}
    with store_faults(dynamodb_client(), "PutItem", "LinksTable", times=PUT_RESENDS + 1):
        _unavailable(invoke(make_event("POST", "/api/links", body, headers=key)))
    first = invoke(make_event("POST", "/api/links", body, headers=key))
    second = invoke(make_event("POST", "/api/links", body, headers=key))
    assert first["statusCode"] == second["statusCode"] == 201
    assert json.loads(first["body"])["code"] == json.loads(second["body"])["code"]
    drain_stream(dynamodb)
    listed = json.loads(invoke(make_event("GET", f"/api/links?tag={body['tags'][0]}"))["body"])["links"]
    assert len(listed) == 1


def test_idempotency_store_fault_is_503_and_creates_nothing(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    before = link_count(dynamodb)
    with store_faults(dynamodb_client(), "PutItem", "IdempotencyTable"):
        _unavailable(invoke(make_event("POST", "/api/links", {"url": "https://example.com/i"},
                                       headers={"Idempotency-Key": uuid.uuid4().hex})))
    assert link_count(dynamodb) == before


def test_stats_function_reports_the_batch_for_retry_on_a_fault(handlers: dict[str, Callable[..., dict[str, Any]]], dynamodb: Any) -> None:
    event = load_event("stream-visits")
    with store_faults(dynamodb_client(), "UpdateItem", "StatsTable"):
        answer = handlers["StatsFunction"](event, LambdaContext("StatsFunction", "t"))
    visits = [r["dynamodb"]["SequenceNumber"] for r in event["Records"][:6]]  # the bot's too: counted apart, in the same row
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    # Lambda retries from the lowest record reported: every visit of the batch again
    assert failed and min(failed, key=int) == visits[0] and set(failed) <= set(visits)


def test_another_owner_never_sees_a_fault_as_permission(invoke: Invoke, make_event: MakeEvent, link: str) -> None:
    assert invoke(make_event("GET", f"/api/links/{link}", api_key=OTHER_KEY))["statusCode"] == 404
    with store_faults(dynamodb_client(), "GetItem"):
        _unavailable(invoke(make_event("GET", f"/api/links/{link}", api_key=OTHER_KEY)))


@pytest.mark.parametrize("lost", [1, 2])
@pytest.mark.parametrize("with_alias", [True, False])
def test_a_create_whose_answer_is_lost_stores_one_link_and_says_201(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                                   lost: int, with_alias: bool) -> None:
    """The PutItem lands but its answer is lost: botocore's retry meets the first write. It must
    recognise it (one link, a 201, never a false 409), also when the retry's answer is lost too."""
    body = {"url": "https://example.com/lost", **({"alias": alias("lost")} if with_alias else {})}
    with lost_answers(dynamodb_client(), "PutItem", "LinksTable", times=lost) as losses:
        answer = invoke(make_event("POST", "/api/links", body))
    assert len(losses) == lost
    assert answer["statusCode"] == 201, answer["body"]
    made = json.loads(answer["body"])
    assert link_count(dynamodb) == 1 and stored_item(dynamodb, made["code"]) is not None


@pytest.mark.parametrize("with_alias", [True, False])
def test_a_create_whose_write_lands_late_answers_201_with_that_link(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                                   with_alias: bool) -> None:
    """Both of botocore's attempts time out, and both reach the store after the handler answered.
    The create sends its write once more and answers with the link; the late copies change nothing."""
    body = {"url": "https://example.com/late", **({"alias": alias("late")} if with_alias else {})}
    with late_writes(dynamodb_client(), "PutItem", "LinksTable", times=2) as late:
        answer = invoke(make_event("POST", "/api/links", body))
        assert answer["statusCode"] == 201, answer["body"]
    assert len(late) == 2
    made = json.loads(answer["body"])
    assert link_count(dynamodb) == 1
    assert stored_item(dynamodb, made["code"])["create_token"]["S"]  # the answered link is the stored one


def test_a_create_that_never_reached_the_store_is_503_and_stores_nothing(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    with store_faults(dynamodb_client(), "PutItem", "LinksTable", timeout=True, times=PUT_RESENDS + 1):
        _unavailable(invoke(make_event("POST", "/api/links", {"url": "https://example.com/never", "alias": alias("never")})))
    assert link_count(dynamodb) == 0
