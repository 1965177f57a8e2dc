"""The visits order of GET /api/links (links/ranking.py): StatsFunction ranks each visited life
once its window is written, whichever of the stream's two readers comes first, never lowering a
place, and a window whose ranking met a store fault is tried again."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from devserver.gateway import LambdaContext
from shortlink import clock
from shortlink.dynamodb import client as dynamodb_client
from shortlink.links.catalogue import Catalogue
from shortlink.links.identity import LinkId
from shortlink.links.store import LinkStore
from shortlink.settings import load_settings
from support import DOMAIN, Invoke, MakeEvent, drain_stream, make_link, store_faults

Handlers = dict[str, Callable[..., dict[str, Any]]]


def _visit(invoke: Invoke, make_event: MakeEvent, code: str, times: int) -> None:
    for _ in range(times):
        assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 302


def _by_visits(invoke: Invoke, make_event: MakeEvent, sort: str = "-visits") -> list[tuple[str, int]]:
    links = json.loads(invoke(make_event("GET", f"/api/links?sort={sort}"))["body"])["links"]
    return [(link["code"], link["visits"]) for link in links]


def _whole_stream(dynamodb: Any) -> dict[str, Any]:
    """Every record the links table's stream holds, as one event of its event source."""
    from devserver.dynamo import streams_client
    from devserver.streams import lambda_event, stored_records

    arn = dynamodb.describe_table(TableName="LinksTable")["Table"]["LatestStreamArn"]
    return lambda_event([record for _, record in stored_records(streams_client(dynamodb.meta.endpoint_url), arn)], arn, set())


def test_a_life_visited_before_the_index_had_it_is_ranked_and_keeps_its_postings_ttl(
        invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    permanent, brief = make_link(invoke, make_event, validity="permanent"), make_link(invoke, make_event, validity="1d")
    _visit(invoke, make_event, permanent["code"], 3)
    _visit(invoke, make_event, brief["code"], 2)
    drain_stream(dynamodb, only="StatsFunction")  # the statistics' reader first: no posting yet
    drain_stream(dynamodb, only="SearchFunction")
    assert _by_visits(invoke, make_event) == [(permanent["code"], 3), (brief["code"], 2)]
    assert _by_visits(invoke, make_event, "visits") == [(brief["code"], 2), (permanent["code"], 3)]
    postings = dynamodb.scan(TableName="SearchTable", FilterExpression="attribute_exists(ranked_visits)")["Items"]
    ttl = {item["life"]["S"].rpartition("/")[2]: item.get("expires_at") for item in postings}
    assert ttl[permanent["code"]] is None  # made with a stand-in TTL, which the index's writer removed
    assert ttl[brief["code"]] is not None


def test_a_late_window_never_lowers_a_place(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    first, second = make_link(invoke, make_event), make_link(invoke, make_event)
    _visit(invoke, make_event, first["code"], 3)
    _visit(invoke, make_event, second["code"], 2)
    drain_stream(dynamodb)
    settings = load_settings()
    link = LinkStore.of(settings).get(LinkId(DOMAIN, first["code"]))
    assert Catalogue.of(settings).raise_rank(link, clock.now()) == 0  # its item's 0 visits: a window of before its visits
    assert _by_visits(invoke, make_event) == [(first["code"], 3), (second["code"], 2)]


def test_a_window_whose_ranking_met_a_store_fault_is_tried_again(
        invoke: Invoke, make_event: MakeEvent, dynamodb: Any, handlers: Handlers) -> None:
    quiet, visited = make_link(invoke, make_event), make_link(invoke, make_event)
    drain_stream(dynamodb)
    _visit(invoke, make_event, visited["code"], 4)
    drain_stream(dynamodb, only="SearchFunction")
    event = _whole_stream(dynamodb)
    stats = handlers["StatsFunction"]
    with store_faults(dynamodb_client(), "UpdateItem", "SearchTable") as failed:
        assert stats(event, LambdaContext("StatsFunction", uuid.uuid4().hex))["batchItemFailures"]
    assert failed
    assert stats(event, LambdaContext("StatsFunction", uuid.uuid4().hex)) == {"batchItemFailures": []}
    assert _by_visits(invoke, make_event) == [(visited["code"], 4), (quiet["code"], 0)]
