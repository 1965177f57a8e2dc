"""links/patch.py: a PATCH body becomes the attributes to set and to remove."""

from __future__ import annotations

from typing import Any

import pytest

from shortlink.clock import DAY
from shortlink.errors import InvalidInput
from shortlink.links.identity import LinkId
from shortlink.links.patch import plan_patch
from support import SETTINGS

NOW = 1_790_000_000_000  # 2026-09-21T14:13:20Z, in milliseconds
LINK = LinkId("s.example.com", "abc")


@pytest.mark.parametrize("changes, sets, removes", [
    ({"title": " New "}, {"title": "New"}, []),
    ({"title": ""}, {}, ["title"]),
    ({"title": None}, {}, ["title"]),
    ({"tags": []}, {}, ["tags"]),
    ({"max_visits": None, "disabled": True}, {"disabled": True}, ["max_visits"]),
    ({"expires_at": None}, {}, ["expires_at"]),
    ({"validity": "permanent"}, {}, ["expires_at"]),
    ({"validity": "1d"}, {"expires_at": NOW + DAY}, []),
    ({"expires_at": "2026-09-22T14:13:20Z"}, {"expires_at": NOW + DAY}, []),
    ({"password": None}, {}, ["password_hash", "guess_window", "guess_count"]),
    ({"targets": {"ios": "https://apps.apple.com/x", "android": None}}, {"targets": {"ios": "https://apps.apple.com/x"}}, []),
])
def test_given_fields_become_sets_and_removes(changes: dict[str, Any], sets: dict[str, Any], removes: list[str]) -> None:
    planned_sets, planned_removes = plan_patch(changes, SETTINGS, LINK, NOW)
    assert planned_sets == {**sets, "updated_at": NOW}
    assert planned_removes == removes


def test_a_new_password_is_stored_as_its_hash_and_resets_the_back_off() -> None:
    sets, removes = plan_patch({"password": "open sesame"}, SETTINGS, LINK, NOW)
    assert sets["password_hash"].startswith("scrypt$") and "open sesame" not in sets["password_hash"]
    assert removes == ["guess_window", "guess_count"]


@pytest.mark.parametrize("changes, fields", [
    ({}, {"body"}),
    ({"url": None, "validity": None, "disabled": None}, {"url", "validity", "disabled"}),
    ({"validity": "1d", "expires_at": "2030-01-01T00:00:00Z"}, {"expires_at"}),
    ({"valid_since": "2030-01-01T00:00:00Z", "expires_at": "2029-01-01T00:00:00Z"}, {"valid_since"}),
    ({"targets": {"watch": "https://example.com", "ios": "ftp://x"}}, {"targets.watch", "targets.ios"}),
])
def test_every_bad_field_is_named_in_one_answer(changes: dict[str, Any], fields: set[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_patch(changes, SETTINGS, LINK, NOW)
    assert {e.field for e in caught.value.errors} == fields
