"""ManageFunction against moto: owners, PATCH rules, delete, cursors, batch limits, OpenAPI."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from devserver.template import Template
from shortlink.dynamodb import client as dynamodb_client
from support import OTHER_KEY, FakeClock, Invoke, MakeEvent, alias, drain_stream, dynamodb_requests, error_fields, headers_of, link_count, make_link


def _make(invoke: Invoke, make_event: MakeEvent, **fields: Any) -> dict[str, Any]:
    return make_link(invoke, make_event, url="https://example.com/managed", **fields)


def _status(answer: dict[str, Any]) -> int:
    return int(answer["statusCode"])


def test_another_key_sees_404_for_read_patch_delete(invoke: Invoke, make_event: MakeEvent) -> None:
    link = _make(invoke, make_event)
    path = f"/api/links/{link['code']}"
    assert _status(invoke(make_event("GET", path, api_key=OTHER_KEY))) == 404
    assert _status(invoke(make_event("PATCH", path, {"url": "https://evil.example/"}, api_key=OTHER_KEY))) == 404
    assert _status(invoke(make_event("DELETE", path, api_key=OTHER_KEY))) == 404
    mine = invoke(make_event("GET", path))
    assert _status(mine) == 200 and json.loads(mine["body"])["url"] == "https://example.com/managed"


def test_anonymous_links_cannot_be_managed(invoke: Invoke, make_event: MakeEvent) -> None:
    made = json.loads(invoke(make_event("POST", "/api/shorten", {"url": "https://example.com/anon"}))["body"])
    assert _status(invoke(make_event("GET", f"/api/links/{made['code']}"))) == 404
    assert _status(invoke(make_event("DELETE", f"/api/links/{made['code']}"))) == 404


def test_patch_changes_only_given_fields_and_null_clears(invoke: Invoke, make_event: MakeEvent, clock: FakeClock) -> None:
    link = _make(invoke, make_event, title="old", tags=["a"], max_visits=5)
    path = f"/api/links/{link['code']}"
    clock.advance(5)
    changed = json.loads(invoke(make_event("PATCH", path, {"title": "new", "max_visits": None, "expires_at": None}))["body"])
    assert changed["title"] == "new" and changed["tags"] == ["a"]
    assert changed["max_visits"] is None and changed["expires_at"] is None
    assert changed["updated_at"] > link["updated_at"] and changed["created_at"] == link["created_at"]
    extended = json.loads(invoke(make_event("PATCH", path, {"validity": "1d"}))["body"])
    assert extended["expires_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(clock()) + 86400))


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"body"}),
        ({"url": None}, {"url"}),
        ({"disabled": None}, {"disabled"}),
        ({"validity": "1d", "expires_at": "2030-01-01T00:00:00Z"}, {"expires_at"}),
        ({"expires_at": "2001-01-01T00:00:00Z"}, {"expires_at"}),
        ({"redirect_status": 303}, {"redirect_status"}),
        ({"max_visits": 0}, {"max_visits"}),
        ({"targets": {"watch": "https://example.com"}}, {"targets.watch"}),
        ({"targets": {"ios": "javascript:x"}}, {"targets.ios"}),
        ({"password": "abc"}, {"password"}),
        ({"url": "ftp://x", "tags": "x"}, {"tags"}),
        ({"owner": "someone"}, {"owner"}),
    ],
)
def test_bad_patches_are_422_and_change_nothing(invoke: Invoke, make_event: MakeEvent, body: dict[str, Any], fields: set[str]) -> None:
    link = _make(invoke, make_event)
    path = f"/api/links/{link['code']}"
    assert fields <= error_fields(invoke(make_event("PATCH", path, body)))
    assert json.loads(invoke(make_event("GET", path))["body"]) == link


def test_delete_frees_the_code_at_once(invoke: Invoke, make_event: MakeEvent) -> None:
    link = _make(invoke, make_event)
    assert _status(invoke(make_event("DELETE", f"/api/links/{link['code']}"))) == 204
    again = invoke(make_event("POST", "/api/links", {"url": "https://example.com/reborn", "alias": link["code"]}))
    assert _status(again) == 201


def test_cursors_are_opaque_and_cannot_reach_another_owner(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    for _ in range(3):
        _make(invoke, make_event)
    drain_stream(dynamodb)
    first = json.loads(invoke(make_event("GET", "/api/links?limit=2"))["body"])
    assert len(first["links"]) == 2 and first["cursor"]
    # key B replays A's cursor: it only positions inside B's own (empty) listing
    as_other = json.loads(invoke(make_event("GET", f"/api/links?limit=2&cursor={first['cursor']}", api_key=OTHER_KEY))["body"])
    assert as_other["links"] == []
    for forged in ("not-a-cursor", "eyJhIjoxfQ", "W10"):
        assert error_fields(invoke(make_event("GET", f"/api/links?cursor={forged}"))) == {"cursor"}
    assert error_fields(invoke(make_event("GET", "/api/links?limit=101"))) == {"limit"}
    assert error_fields(invoke(make_event("GET", "/api/links?state=sleeping"))) == {"state"}


def test_list_filters_by_tag_domain_and_state(invoke: Invoke, make_event: MakeEvent, clock: FakeClock, dynamodb: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    on_go = _make(invoke, make_event, tags=[tag], domain="go.example.com")
    clock.advance(1)
    on_s = _make(invoke, make_event, tags=[tag])
    clock.advance(1)
    off = _make(invoke, make_event, tags=[tag])
    invoke(make_event("PATCH", f"/api/links/{off['code']}", {"disabled": True}))
    drain_stream(dynamodb)

    def codes(query: str) -> list[str]:
        return [link["code"] for link in json.loads(invoke(make_event("GET", f"/api/links?tag={tag}{query}"))["body"])["links"]]

    assert codes("") == [off["code"], on_s["code"], on_go["code"]]  # newest first
    assert codes("&domain=go.example.com") == [on_go["code"]]
    assert codes("&state=disabled") == [off["code"]]
    assert codes("&state=active&limit=1") == [on_s["code"]]


def test_batch_sizes_and_per_itemerror_fields(invoke: Invoke, make_event: MakeEvent) -> None:
    assert error_fields(invoke(make_event("POST", "/api/links/batch", {"links": []}))) == {"links"}
    too_many = [{"url": f"https://example.com/{i}"} for i in range(101)]
    assert error_fields(invoke(make_event("POST", "/api/links/batch", {"links": too_many}))) == {"links"}
    taken = alias("m")
    items = [{"url": "https://example.com/1", "alias": taken}, {"url": "https://example.com/2", "alias": taken},
             {"url": "https://example.com/3", "surprise": 1}, {"url": "https://example.com/4"}]
    results = json.loads(invoke(make_event("POST", "/api/links/batch", {"links": items}))["body"])["results"]
    assert [r["status"] for r in results] == [201, 409, 422, 201]
    assert results[2]["error"]["errors"] == [{"field": "surprise", "message": "unknown field"}]


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    before = link_count(dynamodb)
    first = invoke(make_event("POST", "/api/links", {"url": "https://example.com/once"}, headers=key))
    second = invoke(make_event("POST", "/api/links", {"url": "https://example.com/once"}, headers=key))
    assert _status(first) == _status(second) == 201
    assert json.loads(first["body"]) == json.loads(second["body"])
    assert headers_of(second)["Location"] == headers_of(first)["Location"]
    assert link_count(dynamodb) == before + 1
    assert error_fields(invoke(make_event("POST", "/api/links", {"url": "https://example.com/other"}, headers=key))) == {"Idempotency-Key"}
    # the same key from another API key is another request
    assert _status(invoke(make_event("POST", "/api/links", {"url": "https://example.com/other"}, headers=key, api_key=OTHER_KEY))) == 201


def test_openapi_lists_every_api_route_of_the_template(invoke: Invoke, make_event: MakeEvent, template: Template) -> None:
    answer = invoke(make_event("GET", "/api/openapi.json"))
    document = json.loads(answer["body"])
    described = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    # every GET's HEAD twin answers as the GET does, without a body: the document lists the GET
    routes = {(r.method, r.public_path) for r in template.routes() if r.public_path.startswith("/api/") and r.method != "HEAD"}
    assert described == routes
    assert document["components"]["securitySchemes"]["apiKey"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    for route in template.routes():
        if route.public_path.startswith("/api/"):
            operation = document["paths"][route.public_path]["get" if route.method == "HEAD" else route.method.lower()]
            assert ("security" in operation) == route.api_key_required, route
    post = document["paths"]["/api/links"]["post"]
    assert "requestBody" in post and post["responses"]
    assert "LinkOut" in json.dumps(post["responses"])
    docs = invoke(make_event("GET", "/api/docs"))
    assert headers_of(docs)["Content-Type"].startswith("text/html") and 'spec-url="openapi.json"' in docs["body"]


def test_committed_openapi_document_is_up_to_date() -> None:
    from scripts.openapi import OUTPUT, render

    assert OUTPUT.read_text(encoding="utf-8") == render(), "run `make openapi`"


def test_a_list_page_is_one_query_of_the_index_and_one_read_of_its_links_and_their_counted_visits(
        invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    for _ in range(3):
        _make(invoke, make_event)
    drain_stream(dynamodb)
    with dynamodb_requests(dynamodb_client()) as sent:
        page = json.loads(invoke(make_event("GET", "/api/links?limit=2"))["body"])
    assert len(page["links"]) == 2 and sent == ["Query", "BatchGetItem", "BatchGetItem"]


def test_q_pages_through_every_match_once_and_a_deleted_link_leaves_the_list(
        invoke: Invoke, make_event: MakeEvent, clock: FakeClock, dynamodb: Any) -> None:
    word = uuid.uuid4().hex[:6]
    matching = []
    for n in range(5):
        matching.append(_make(invoke, make_event, title=f"春节{word} 第{n}场"))
        _make(invoke, make_event, title=f"元旦 第{n}场")  # between them, no match
        clock.advance(1)
    drain_stream(dynamodb)
    seen, cursor = [], None
    while True:
        page = json.loads(invoke(make_event("GET", f"/api/links?q={word.upper()}&limit=2" + (f"&cursor={cursor}" if cursor else "")))["body"])
        seen += [link["code"] for link in page["links"]]
        if not (cursor := page["cursor"]):
            break
    assert seen == [link["code"] for link in reversed(matching)]  # newest first, each once
    assert _status(invoke(make_event("DELETE", f"/api/links/{matching[0]['code']}"))) == 204
    drain_stream(dynamodb)
    listed = json.loads(invoke(make_event("GET", f"/api/links?q={word}&limit=10"))["body"])["links"]
    assert [link["code"] for link in listed] == [link["code"] for link in reversed(matching[1:])]


def test_reindex_lists_links_stored_before_the_index_existed(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    from scripts.reindex import reindex
    from shortlink import clock
    from shortlink.links.catalogue import Catalogue
    from shortlink.settings import load_settings
    from shortlink.stats.store import StatsStore

    made = [_make(invoke, make_event, title=f"旧链接 {n}") for n in range(3)]  # the stream is not read: no index yet
    assert json.loads(invoke(make_event("GET", "/api/links"))["body"])["links"] == []
    settings = load_settings()
    for n, link in enumerate(made):  # visits the links had before: 1, 0, 2 (on their items, as a limited link counts)
        dynamodb.update_item(TableName="LinksTable", Key={"link_id": {"S": f"{link['domain']}/{link['code']}"}},
                             UpdateExpression="SET visits = :n", ExpressionAttributeValues={":n": {"N": str([1, 0, 2][n])}})
    assert reindex(dynamodb, "LinksTable", Catalogue.of(settings), StatsStore(settings.require_stats_table()), clock.now()) == 3
    listed = json.loads(invoke(make_event("GET", "/api/links?q=旧链接"))["body"])["links"]
    assert sorted(link["code"] for link in listed) == sorted(link["code"] for link in made)
    by_visits = json.loads(invoke(make_event("GET", "/api/links?sort=-visits"))["body"])["links"]
    assert [(link["code"], link["visits"]) for link in by_visits] == [(made[2]["code"], 2), (made[0]["code"], 1), (made[1]["code"], 0)]
