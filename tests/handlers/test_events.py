"""Every file in events/ is what `sam local invoke <Function> -e events/<file>` sends; each runs here."""

from __future__ import annotations

import json
from typing import Any

from devserver.gateway import LambdaContext
from devserver.template import Template
from shortlink.dynamodb import client as dynamodb_client
from shortlink.http.requests import is_http_api, request_method, route_path
from support import (
    DAY_SECONDS,
    EVENTS,
    INVOCATIONS,
    LINK_CACHE_SECONDS,
    FakeClock,
    Invoke,
    MakeEvent,
    dynamodb_requests,
    headers_of,
    link_count,
    load_event,
    stored_item,
    visits_of,
)


def test_every_event_file_is_exercised_and_routed_to_its_function(template: Template) -> None:
    assert {p.stem for p in EVENTS.glob("*.json")} == set(INVOCATIONS)
    streams = {s.function for s in template.stream_subscriptions()}
    for name, function in INVOCATIONS.items():
        event = load_event(name)
        if "Records" in event:
            assert function in streams, name
            continue
        if event.get("source") == "aws.events":
            assert function in template.scheduled_functions(), name
            continue
        if event.get("type") == "REQUEST":  # an authorizer's: the function authorizes the route its event names
            assert any(r.authorizer == function and r.path == event["resource"] and r.method == event["httpMethod"]
                       for r in template.routes()), name
            continue
        assert any(r.function == function and r.path == route_path(event) and r.method == request_method(event)
                   and r.payload == ("2.0" if is_http_api(event) else "1.0") for r in template.routes()), name


def test_expiry_sweep_event_marks_each_expired_link_once(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                         handlers: dict[str, Any], clock: FakeClock) -> None:
    def sweep() -> dict[str, Any]:
        with dynamodb_requests(dynamodb_client()) as sent:
            answer = handlers["ExpiryFunction"](load_event("expiry-sweep"), LambdaContext("ExpiryFunction", "test"))
        assert set(sent) <= {"Query", "UpdateItem"}
        return dict(answer)

    for code, validity in (("sw-day", "1d"), ("sw-week", "7d"), ("sw-forever", "permanent")):
        assert invoke(make_event("POST", "/api/links", {"url": "https://example.com/s", "alias": code, "validity": validity}))["statusCode"] == 201
    assert "expiry_slot" in stored_item(dynamodb, "sw-day") and "expiry_slot" not in stored_item(dynamodb, "sw-forever")
    assert sweep() == {"marked": 0, "failed": 0}  # nothing has expired yet
    clock.advance(DAY_SECONDS + 30)
    assert sweep() == {"marked": 1, "failed": 0}
    day = stored_item(dynamodb, "sw-day")
    assert "expiry_slot" not in day and day["expired_notice"] == day["expires_at"]
    assert sweep() == {"marked": 0, "failed": 0}  # announced once
    assert "expired_notice" not in stored_item(dynamodb, "sw-week")
    # a PATCH moves the link in the index (or takes it out)
    assert invoke(make_event("PATCH", "/api/links/sw-week", {"validity": "1d"}))["statusCode"] == 200
    assert invoke(make_event("PATCH", "/api/links/sw-forever", {"validity": "1d"}))["statusCode"] == 200
    assert invoke(make_event("PATCH", "/api/links/sw-forever", {"validity": "permanent"}))["statusCode"] == 200
    assert "expiry_slot" not in stored_item(dynamodb, "sw-forever")
    clock.advance(DAY_SECONDS + 30)
    assert sweep() == {"marked": 1, "failed": 0}
    assert "expired_notice" in stored_item(dynamodb, "sw-week")


def test_create_then_follow_with_the_sample_events(invoke: Invoke, dynamodb: Any, clock: FakeClock) -> None:
    created = invoke(load_event("create"))
    assert created["statusCode"] == 201
    body = json.loads(created["body"])
    assert body["short_url"] == "https://s.example.com/spring-sale"
    assert body["url"] == "https://example.com/spring-sale?utm_source=poster"
    assert body["title"] == "Spring sale" and body["tags"] == ["campaign"] and body["state"] == "active"
    assert headers_of(created)["Location"] == "/api/links/spring-sale?domain=s.example.com"
    assert stored_item(dynamodb, "spring-sale")["owner"] == {"S": "k7x2pq9wz1"}

    head = invoke(load_event("redirect-head"))
    assert head["statusCode"] == 302 and headers_of(head)["Location"] == body["url"] and head["body"] == ""
    assert stored_item(dynamodb, "spring-sale")["visits"] == {"N": "0"}

    with dynamodb_requests(dynamodb_client()) as requests:
        follow = invoke(load_event("redirect"))
    assert follow["statusCode"] == 302
    assert headers_of(follow)["Location"] == "https://example.com/spring-sale?utm_source=poster"
    assert requests == ["UpdateItem"]  # HEAD read the link: the visit is the one request
    assert visits_of(dynamodb, "spring-sale") == 1  # once StatsFunction has tallied it

    listed = invoke(load_event("list"))
    assert listed["statusCode"] == 200
    assert "spring-sale" in [link["code"] for link in json.loads(listed["body"])["links"]]

    patched = invoke(load_event("patch"))
    assert patched["statusCode"] == 200, patched["body"]
    changed = json.loads(patched["body"])
    assert changed["redirect_status"] == 301 and changed["max_visits"] == 1000 and changed["forward_query"] is True
    # the sample redirect comes from an iPhone: it now gets the iOS target, with a 301 (once the
    # redirect's copy of the link is read again)
    clock.advance(LINK_CACHE_SECONDS)
    follow = invoke(load_event("redirect"))
    assert follow["statusCode"] == 301 and headers_of(follow)["Location"] == "https://apps.apple.com/app/id000000"

    assert invoke(load_event("delete"))["statusCode"] == 204
    clock.advance(LINK_CACHE_SECONDS)
    assert invoke(load_event("redirect"))["statusCode"] == 404
    assert invoke(load_event("delete"))["statusCode"] == 404


def test_batch_event_creates_each_good_item_and_replays_by_idempotency_key(invoke: Invoke, dynamodb: Any) -> None:
    before = link_count(dynamodb)
    first = invoke(load_event("batch"))
    assert first["statusCode"] == 200
    results = json.loads(first["body"])["results"]
    assert [r["status"] for r in results] == [201, 422, 201]
    assert results[1]["error"]["errors"][0]["field"] == "url"
    assert results[2]["link"]["expires_at"] is None
    again = invoke(load_event("batch"))
    assert json.loads(again["body"]) == json.loads(first["body"])
    assert link_count(dynamodb) == before + 2


def test_unlock_event_posts_the_password_form(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    made = invoke(make_event("POST", "/api/links", {"url": "https://example.com/members", "alias": "members-only", "password": "open sesame"}))
    assert made["statusCode"] == 201
    answer = invoke(load_event("unlock"))
    assert answer["statusCode"] == 303 and headers_of(answer)["Location"] == "https://example.com/members"


def test_invalid_create_event_names_every_bad_field_and_stores_nothing(invoke: Invoke, dynamodb: Any) -> None:
    before = link_count(dynamodb)
    answer = invoke(load_event("create-invalid"))
    assert answer["statusCode"] == 422
    assert headers_of(answer)["Content-Type"] == "application/problem+json"
    problem = json.loads(answer["body"])
    assert problem["status"] == 422 and problem["title"] and problem["type"].startswith("https://")
    assert {e["field"] for e in problem["errors"]} == {"url", "alias", "validity"}
    assert link_count(dynamodb) == before


def test_shorten_event_with_base64_body_creates_an_unowned_link(invoke: Invoke, dynamodb: Any) -> None:
    event = load_event("shorten")
    assert event["isBase64Encoded"] is True
    answer = invoke(event)
    assert answer["statusCode"] == 201
    body = json.loads(answer["body"])
    assert body["url"] == "https://example.com/%E6%96%87%E7%AB%A0/2026"
    assert headers_of(answer)["Location"] == body["short_url"]
    assert "owner" not in stored_item(dynamodb, body["code"], body["domain"])


def test_domains_event_lists_domains_and_validity_presets(invoke: Invoke) -> None:
    answer = invoke(load_event("domains"))
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {
        "domains": ["s.example.com", "go.example.com"],
        "default_domain": "s.example.com",
        "validities": ["1d", "7d", "30d", "90d", "180d", "365d", "permanent"],
        "default_validity": "30d",
        "public_shortening": True,
    }


def test_unknown_code_event_is_a_404_problem(invoke: Invoke) -> None:
    answer = invoke(load_event("redirect-unknown"))
    assert answer["statusCode"] == 404
    assert headers_of(answer)["Content-Type"] == "application/problem+json"
    assert json.loads(answer["body"])["status"] == 404


def test_web_page_event_renders_the_page_in_the_visitors_language(invoke: Invoke) -> None:
    answer = invoke(load_event("web-page"))
    assert answer["statusCode"] == 200
    assert '<html lang="zh-CN">' in answer["body"] and "短网址有效期" in answer["body"]
