"""Visits counted on a plain link's counters (links/counters.py): they reach the link's visits,
its statistics and its milestones exactly, however often the stream replays them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shortlink.events.changes import LinkEvent
from support import LINK_CACHE_SECONDS, FakeClock, Invoke, MakeEvent, drain_stream, make_link, stored_item, visits_of

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50"
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture()
def announced(monkeypatch: pytest.MonkeyPatch) -> list[LinkEvent]:
    """The link events StatsFunction sends (EventBridge is only on AWS)."""
    sent: list[LinkEvent] = []

    def publish(events: list[LinkEvent]) -> int:
        sent.extend(events)
        return len(events)

    monkeypatch.setattr("shortlink.events.batch.publish", publish)
    return sent


def _follow(invoke: Invoke, make_event: MakeEvent, code: str, agent: str = PHONE) -> int:
    return int(invoke(make_event("GET", f"/{code}", headers={"User-Agent": agent}))["statusCode"])


def test_counted_visits_reach_the_link_its_statistics_and_a_milestone_once(
        invoke: Invoke, make_event: MakeEvent, dynamodb: Any, announced: list[LinkEvent]) -> None:
    code = make_link(invoke, make_event)["code"]
    served = [_follow(invoke, make_event, code) for _ in range(120)] + [_follow(invoke, make_event, code, CRAWLER) for _ in range(7)]
    assert served == [302] * 127
    assert stored_item(dynamodb, code)["visits"] == {"N": "0"}  # nothing written on the link's own item
    for _ in range(3):  # the stream replayed twice more: nothing counts twice
        drain_stream(dynamodb)
    body = json.loads(invoke(make_event("GET", f"/api/links/{code}"))["body"])
    assert body["visits"] == 120 == visits_of(dynamodb, code)
    stats = json.loads(invoke(make_event("GET", f"/api/links/{code}/stats?include_bots=true&tz=UTC"))["body"])
    assert stats["total"] == 120 and stats["bots"] == 7 and stats["platforms"] == {"ios": 120}
    listed = json.loads(invoke(make_event("GET", "/api/links"))["body"])["links"]
    assert [link["visits"] for link in listed if link["code"] == code] == [120]
    milestones = [event for event in announced if event.kind == "link.milestone"]
    assert [(m.detail["milestone"], m.detail["link"]["code"]) for m in milestones] == [(100, code)]
    assert milestones[0].detail["link"]["visits"] >= 100


def test_a_visit_limit_set_later_counts_the_visits_counted_before(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                                  clock: FakeClock) -> None:
    code = make_link(invoke, make_event)["code"]
    assert [_follow(invoke, make_event, code) for _ in range(5)] == [302] * 5
    drain_stream(dynamodb)
    patched = invoke(make_event("PATCH", f"/api/links/{code}", {"max_visits": 7}))
    assert json.loads(patched["body"])["visits"] == 5
    clock.advance(LINK_CACHE_SECONDS)  # the redirect reads the limit
    assert [_follow(invoke, make_event, code) for _ in range(3)] == [302, 302, 410]
    assert visits_of(dynamodb, code) == 7
    again = invoke(make_event("PATCH", f"/api/links/{code}", {"max_visits": 8}))  # folds nothing twice
    assert json.loads(again["body"])["visits"] == 7 and json.loads(again["body"])["state"] == "active"
