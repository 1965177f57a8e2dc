"""links/model.py: the field declarations, and what follows from them (body, item, schemas)."""

from __future__ import annotations

import dataclasses

import pytest

from shortlink.clock import MINUTE, SECOND
from shortlink.links.model import DERIVED_SHOWN, GIVEN, SHOWN, Link
from shortlink.links.store import from_item, to_item
from support import SETTINGS, new_link

NOW = 1_790_000_000_000  # 2026-09-21T14:13:20Z, in milliseconds


@pytest.mark.parametrize("fields, now, state", [
    ({"expires_at": NOW + 10 * SECOND}, NOW + 10 * SECOND - 1, "active"),
    ({"expires_at": NOW + 10 * SECOND}, NOW + 10 * SECOND, "expired"),
    ({"valid_since": NOW + SECOND}, NOW, "scheduled"),
    ({"max_visits": 1, "visits": 1}, NOW, "exhausted"),
    ({"disabled": True, "expires_at": NOW}, NOW, "disabled"),
])
def test_state_follows_the_rules_to_the_millisecond(fields: dict[str, int | bool], now: int, state: str) -> None:
    assert new_link(**fields).state(now) == state


def test_body_shows_declared_fields_and_derived_ones() -> None:
    body = new_link(expires_at=NOW + 10 * SECOND, password_hash="scrypt$x", tags=["a"]).to_body(NOW, SETTINGS)
    assert set(body) == {name for _, name, _ in SHOWN} | set(DERIVED_SHOWN)
    assert body["expires_at"] == "2026-09-21T14:13:30Z" and body["valid_since"] is None
    assert body["password_protected"] is True and "password_hash" not in body
    assert body["short_url"] == "https://s.example.com/abc" and body["state"] == "active"
    assert new_link().to_body(NOW, SETTINGS)["expires_at"] is None
    assert body["created_at"] == "2026-09-21T14:13:20.000Z"


def test_every_attribute_round_trips_through_the_stored_item() -> None:
    full = new_link(owner="key1", expires_at=NOW + 60 * SECOND, valid_since=NOW, max_visits=5, visits=2, disabled=True,
                    redirect_status=301, forward_query=True, title="T", tags=["a", "b"], password_hash="scrypt$x",
                    targets={"ios": "https://apps.apple.com/x"}, guess_window=NOW // MINUTE, guess_count=3)
    assert {f.name for f in dataclasses.fields(Link)} - {k for k, v in vars(full).items() if v in (None, [], {})} \
        <= set(to_item(full))
    assert from_item(to_item(full)) == full
    item = to_item(new_link())
    assert item["link_id"] == {"S": "s.example.com/abc"} and item["created_at"] == {"S": "2026-09-21T14:13:20.000Z"}
    # DynamoDB's TTL reads whole epoch seconds
    assert to_item(full)["expires_at"] == {"N": str(NOW // SECOND + 60)} and to_item(full)["valid_since"] == {"N": str(NOW // SECOND)}
    assert "expires_at" not in item and "owner" not in item and "tags" not in item  # absent, never NULL


def test_a_given_field_can_be_checked_and_is_also_shown_or_internal() -> None:
    shown = {attr for attr, _, _ in SHOWN}
    for attr, name, spec in GIVEN:
        assert attr in shown, attr
        assert spec.doc or spec.rule, name
