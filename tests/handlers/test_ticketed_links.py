"""A visit limit spread as tickets over a link's counters (links/tickets.py), through the handlers:
exact at the limit, across PATCHes up and down, and for a link that gets its limit later."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shortlink.dynamodb import client as dynamodb_client
from shortlink.links.cache import REFUSING_COPY
from support import DOMAIN, FakeClock, Invoke, MakeEvent, dynamodb_requests, lost_answers, make_link, stored_item, visits_of


def _tickets(dynamodb: Any, code: str) -> list[int]:
    counters = [dynamodb.get_item(TableName="LinksTable", Key={"link_id": {"S": f"{DOMAIN}/{code}#{n}"}},
                                  ConsistentRead=True).get("Item", {}) for n in range(16)]
    return [int(item.get("tickets", {"N": "0"})["N"]) for item in counters]


def _visits(invoke: Invoke, make_event: MakeEvent, code: str, count: int) -> list[int]:
    return [invoke(make_event("GET", f"/{code}"))["statusCode"] for _ in range(count)]


def _patch(invoke: Invoke, make_event: MakeEvent, code: str, **fields: Any) -> dict[str, Any]:
    answer = invoke(make_event("PATCH", f"/api/links/{code}", fields))
    assert answer["statusCode"] == 200, answer["body"]
    return dict(json.loads(answer["body"]))


def test_a_limit_is_spread_over_counters_and_given_exactly(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = make_link(invoke, make_event, max_visits=25)["code"]
    assert _tickets(dynamodb, code) == [9, 8, 8] + [0] * 13
    assert _visits(invoke, make_event, code, 25) == [302] * 25
    with dynamodb_requests(dynamodb_client()) as sent:
        assert _visits(invoke, make_event, code, 1) == [410]
    assert 1 <= len(sent) <= 3 and set(sent) == {"UpdateItem"}  # the counters not yet found empty, once each
    with dynamodb_requests(dynamodb_client()) as after:
        assert _visits(invoke, make_event, code, 3) == [410] * 3
    assert after == []  # used up: the copy answers alone
    assert sum(_tickets(dynamodb, code)) == 0 and visits_of(dynamodb, code) == 25
    assert stored_item(dynamodb, code)["visits"] == {"N": "0"}  # the item is not where a ticketed link counts


@pytest.mark.parametrize("steps", [
    # (visits before, new limit, redirects the next 40 visits get)
    [(20, 30, 10), (0, 45, 15)],  # up after some were used, then up again once used up
    [(20, 30, 10)],  # down, with tickets left
    [(30, 10, 0)],  # down below what was used: none left
    [(5, 100, 40), (0, 50, 5)],  # down again: 45 used of 50
])
def test_changing_the_limit_keeps_it_exact(invoke: Invoke, make_event: MakeEvent, dynamodb: Any, clock: FakeClock,
                                           steps: list[tuple[int, int, int]]) -> None:
    code = make_link(invoke, make_event, max_visits=50)["code"]
    redirected = 0
    for before, limit, then in steps:
        redirected += _visits(invoke, make_event, code, before).count(302)
        body = _patch(invoke, make_event, code, max_visits=limit)
        assert body["max_visits"] == limit
        clock.advance(REFUSING_COPY / 1000)  # a copy that found the link used up is kept that long
        redirected += (got := _visits(invoke, make_event, code, 40).count(302))
        assert got == then
    assert visits_of(dynamodb, code) == redirected


def test_a_limit_set_later_counts_the_visits_already_made(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = make_link(invoke, make_event)["code"]
    assert _visits(invoke, make_event, code, 12) == [302] * 12
    assert visits_of(dynamodb, code) == 12  # tallied: StatsFunction has added up the counters
    _patch(invoke, make_event, code, max_visits=20)
    assert sum(_tickets(dynamodb, code)) == 8
    assert _visits(invoke, make_event, code, 10) == [302] * 8 + [410] * 2
    assert visits_of(dynamodb, code) == 20


def test_a_password_takes_the_limit_back_onto_the_item(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = make_link(invoke, make_event, max_visits=10)["code"]
    assert _visits(invoke, make_event, code, 4) == [302] * 4
    visits_of(dynamodb, code)  # tallied
    _patch(invoke, make_event, code, password="open sesame")
    assert "ticketed" not in stored_item(dynamodb, code) or stored_item(dynamodb, code)["ticketed"] == {"BOOL": False}
    assert stored_item(dynamodb, code)["visits"] == {"N": "4"}  # the counters' visits folded in
    _patch(invoke, make_event, code, password=None)
    assert sum(_tickets(dynamodb, code)) == 6


def test_a_claim_whose_answer_is_lost_never_lets_one_more_through(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    """DynamoDB applies the claim but its answer is lost; botocore sends it again and takes a
    second ticket (UpdateItem has no idempotency token): one visitor fewer, never one more."""
    code = make_link(invoke, make_event, max_visits=5)["code"]
    with lost_answers(dynamodb_client(), "UpdateItem", "LinksTable") as lost:
        assert _visits(invoke, make_event, code, 1) == [302]
    assert len(lost) == 1
    assert sum(_tickets(dynamodb, code)) == 3
    assert _visits(invoke, make_event, code, 5) == [302] * 3 + [410] * 2
