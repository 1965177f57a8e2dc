"""CreateFunction against moto: every rule for input, conflicts, expiry reuse, faults."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from shortlink.dynamodb import client as dynamodb_client
from shortlink.settings import load_settings
from support import Invoke, MakeEvent, alias, headers_of, link_count, problem_of, seed_link, stored_item


def test_created_link_has_the_full_body_and_a_random_code(invoke: Invoke, make_event: MakeEvent) -> None:
    answer = invoke(make_event("POST", "/api/links", {"url": "https://example.com/x", "validity": "permanent", "domain": "go.example.com"}))
    assert answer["statusCode"] == 201
    body = json.loads(answer["body"])
    assert set(body) == {"code", "domain", "short_url", "url", "title", "tags", "created_at", "updated_at", "expires_at",
                         "valid_since", "max_visits", "visits", "redirect_status", "forward_query", "password_protected",
                         "targets", "rules", "in_app", "preview", "disabled", "state", "owner",
                         "team", "created_by", "updated_by"}  # the contract's body, whose link it is, where it sends whom, who did what
    assert len(body["code"]) == 7 and body["domain"] == "go.example.com"
    assert body["team"] is None and body["created_by"] == body["updated_by"] == {"key_id": body["owner"], "name": None}
    assert body["short_url"] == f"https://go.example.com/{body['code']}"
    assert body["expires_at"] is None and body["visits"] == 0 and body["redirect_status"] == 302


def test_expires_at_is_stored_as_the_ttl_number(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = alias()
    answer = invoke(make_event("POST", "/api/links", {"url": "https://example.com/", "alias": code, "expires_at": "2030-01-01T08:00:00+08:00"}))
    assert json.loads(answer["body"])["expires_at"] == "2030-01-01T00:00:00Z"
    item = stored_item(dynamodb, code)
    assert item["expires_at"] == {"N": "1893456000"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "https://example.com", "alias": "api"}, "alias"),
        ({"url": "https://example.com", "domain": "other.example"}, "domain"),
        ({"url": "https://example.com", "validity": "7d", "expires_at": "2030-01-01T00:00:00Z"}, "expires_at"),
        ({"url": "https://example.com", "validity": "forever"}, "validity"),
        ({"url": "https://example.com", "title": "x" * 201}, "title"),
        ({"url": "https://example.com", "tags": ["t"] * 11}, "tags"),
        ({"url": 42}, "url"),
        ({"url": "https://example.com", "tags": "one"}, "tags"),
        ({"url": "https://example.com", "owner": "someone-else"}, "owner"),
        ({"alias": "abc"}, "url"),
        ({"url": "https://s.example.com/loop"}, "url"),
    ],
)
def test_invalid_fields_get_422_naming_the_field_and_store_nothing(
    invoke: Invoke, make_event: MakeEvent, dynamodb: Any, body: dict[str, Any], field: str
) -> None:
    before = link_count(dynamodb)
    problem_of(invoke(make_event("POST", "/api/links", body)), 422, field)
    assert link_count(dynamodb) == before


@pytest.mark.parametrize(
    "raw, content_type, status",
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"\xff\xfe{}", "application/json", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 413),
        (b"[" * 30_000 + b"]" * 30_000, "application/json", 400),
        (json.dumps({"url": "https://example.com/" + "a" * 70_000}).encode(), "application/json", 413),
        (b'{"url": "https://example.com"}', "text/plain", 415),
        (b'{"url": "https://example.com"}', "", 415),
        (b'["https://example.com"]', "application/json", 422),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(
    invoke: Invoke, make_event: MakeEvent, dynamodb: Any, raw: bytes, content_type: str, status: int
) -> None:
    before = link_count(dynamodb)
    event = make_event("POST", "/api/links", raw_body=raw, headers={"Content-Type": content_type} if content_type else {})
    problem_of(invoke(event), status)
    assert link_count(dynamodb) == before


def test_taken_alias_is_409_and_the_first_link_is_untouched(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = alias()
    assert invoke(make_event("POST", "/api/links", {"url": "https://first.example/", "alias": code}))["statusCode"] == 201
    problem_of(invoke(make_event("POST", "/api/links", {"url": "https://second.example/", "alias": code})), 409)
    item = stored_item(dynamodb, code)
    assert item["url"] == {"S": "https://first.example/"}


def test_an_alias_whose_link_expired_can_be_taken_again_at_once(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = alias()
    seed_link(dynamodb, code=code, url="https://old.example/", expires_in=-60, visits=3)  # expired, still stored
    answer = invoke(make_event("POST", "/api/links", {"url": "https://new.example/", "alias": code}))
    assert answer["statusCode"] == 201
    item = stored_item(dynamodb, code)
    assert item["url"] == {"S": "https://new.example/"} and item["visits"] == {"N": "0"}


def test_shorten_takes_only_the_page_fields_and_can_be_turned_off(
    invoke: Invoke, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = problem_of(invoke(make_event("POST", "/api/shorten", {"url": "https://example.com", "title": "no"})), 422)
    assert problem["errors"] == [{"field": "title", "message": "unknown field"}]
    monkeypatch.setenv("PUBLIC_SHORTENING", "false")
    load_settings.cache_clear()
    try:
        problem_of(invoke(make_event("POST", "/api/shorten", {"url": "https://example.com"})), 403)
    finally:
        monkeypatch.undo()
        load_settings.cache_clear()


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"])
def test_store_faults_are_503_with_retry_after(invoke: Invoke, make_event: MakeEvent, code: str) -> None:
    with Stubber(dynamodb_client()) as stub:
        stub.add_client_error("put_item", service_error_code=code, http_status_code=500)
        answer = invoke(make_event("POST", "/api/links", {"url": "https://example.com"}))
    problem_of(answer, 503)
    assert headers_of(answer)["Retry-After"] == "1"


def test_a_missing_setting_is_named_at_the_first_request(invoke: Invoke, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINKS_TABLE")
    load_settings.cache_clear()
    try:
        problem = problem_of(invoke(make_event("POST", "/api/links", {"url": "https://example.com"})), 500)
    finally:
        monkeypatch.undo()
        load_settings.cache_clear()
    assert "LINKS_TABLE" in problem["detail"]


def test_bodies_arrive_base64_encoded_or_as_plain_text(invoke: Invoke, make_event: MakeEvent) -> None:
    """The stack's BinaryMediaTypes make API Gateway base64-encode bodies; a stage without
    them would send text. Both must work."""
    event = make_event("POST", "/api/links", {"url": "https://example.com/b64"})
    assert event["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(event["body"])) == {"url": "https://example.com/b64"}
    plain = {**event, "body": json.dumps({"url": "https://example.com/plain"}), "isBase64Encoded": False}
    for sent, url in ((event, "https://example.com/b64"), (plain, "https://example.com/plain")):
        answer = invoke(sent)
        assert answer["statusCode"] == 201 and json.loads(answer["body"])["url"] == url
