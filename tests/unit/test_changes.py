"""events/changes.py: which link events a stream record of the links table means."""

from __future__ import annotations

from typing import Any

import pytest

from shortlink.clock import SECOND, parse_stamp
from shortlink.dynamodb import typed
from shortlink.events.changes import events_of
from shortlink.links.store import to_item
from support import SETTINGS, new_link

AT = 1795700000  # the stream's clock, and what items store: epoch seconds
TTL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _item(**changes: Any) -> dict[str, Any]:
    """The stored item of a link (plus raw attributes such as last_visit or expired_notice)."""
    raw = {k: changes.pop(k) for k in list(changes) if k in ("last_visit", "expired_notice", "bot_visits", "guard:ab")}
    item = to_item(new_link(owner="key-1", expires_at=(AT + 3600) * SECOND, **changes))
    return {**item, **{k: typed(v) for k, v in raw.items()}}


def _record(name: str, new: dict[str, Any] | None, old: dict[str, Any] | None, ttl: bool = False) -> dict[str, Any]:
    change: dict[str, Any] = {"SequenceNumber": "7", "ApproximateCreationDateTime": AT}
    if new:
        change["NewImage"] = new
    if old:
        change["OldImage"] = old
    return {"eventID": "ev1", "eventName": name, "dynamodb": change, **({"userIdentity": TTL} if ttl else {})}


def _visit(n: int, **more: Any) -> dict[str, Any]:
    return _item(visits=n, last_visit={"id": f"r{n}", "at": AT}, **more)


CASES = [
    ("made", _record("INSERT", _item(), None), ["link.created"]),
    ("a visit", _record("MODIFY", _visit(5), _visit(4)), []),
    ("the 100th visit", _record("MODIFY", _visit(100), _visit(99)), ["link.milestone"]),
    ("the last allowed visit", _record("MODIFY", _visit(3, max_visits=3), _visit(2, max_visits=3)), ["link.exhausted"]),
    ("a bot visit", _record("MODIFY", _visit(4, bot_visits=1), _visit(4)), []),
    ("a password back-off", _record("MODIFY", _item(**{"guard:ab": {"n": 1, "at": 5}}), _item()), []),
    ("a PATCH", _record("MODIFY", _item(title="new", updated_at=parse_stamp("2026-11-27T00:00:00.000Z")), _item()), ["link.updated"]),
    ("the sweep's mark", _record("MODIFY", _item(expired_notice=AT + 3600), _item()), ["link.expired"]),
    ("a DELETE", _record("REMOVE", None, _item()), ["link.deleted"]),
    ("TTL after the sweep", _record("REMOVE", None, _item(expired_notice=AT + 3600), ttl=True), []),
    ("TTL, the sweep missed it", _record("REMOVE", None, _item(), ttl=True), ["link.expired"]),
]


@pytest.mark.parametrize("record, kinds", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_change_means_its_events(record: dict[str, Any], kinds: list[str]) -> None:
    events = events_of(record, SETTINGS)
    assert [e.kind for e in events] == kinds
    for event in events:
        assert event.detail["owner"] == "key-1" and event.detail["link"]["code"] == "abc"
        assert event.sequence_number == "7" and event.time == "2026-11-26T13:33:20Z"


def test_an_expired_event_shows_the_link_expired_and_a_milestone_names_itself() -> None:
    (expired,) = events_of(_record("MODIFY", _item(expired_notice=AT + 3600), _item()), SETTINGS)
    assert expired.detail["link"]["state"] == "expired"
    (milestone,) = events_of(_record("MODIFY", _visit(1000), _visit(999)), SETTINGS)
    assert milestone.detail["milestone"] == 1000 and milestone.event_id == "ev1:link.milestone:1000"
