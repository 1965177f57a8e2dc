"""keys/ and links/access.py: a managed key's secret and state, what each caller may see and do,
and what a key's fields may be."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from shortlink.errors import Forbidden, InvalidInput
from shortlink.keys.manage import _checked
from shortlink.keys.model import ApiKey, digest, id_in, new_secret
from shortlink.links.access import Caller
from support import SETTINGS, new_link

NOW = 1_797_000_000_000


def _key(**fields: Any) -> tuple[ApiKey, str]:
    key_id, secret = new_secret()
    return ApiKey(id=key_id, name="k", role="member", secret_hash=digest(secret), created_at=NOW, **fields), secret


def test_a_secret_names_its_record_and_only_its_own_secret_opens_it() -> None:
    key, secret = _key()
    assert id_in(secret) == key.id and id_in("a-usage-plan-key") is None and id_in(secret + "x") is None
    other, other_secret = _key()
    assert key.opens(secret, NOW) and not key.opens(other_secret, NOW)
    assert dataclasses.replace(key, expires_at=NOW).state(NOW) == "expired" and not dataclasses.replace(key, expires_at=NOW).opens(secret, NOW)
    assert dataclasses.replace(key, revoked_at=NOW - 1).state(NOW) == "revoked"
    assert secret not in str(key.to_body(NOW)) and key.secret_hash not in str(key.to_body(NOW))


LINK = new_link(code="team-link")
TEAM_LINK = dataclasses.replace(LINK, owner="a1", team="growth")
OWN_LINK = dataclasses.replace(LINK, owner="solo")


@pytest.mark.parametrize("caller, link, sees", [
    (Caller("a2", team="growth"), TEAM_LINK, True),  # a team shares its links
    (Caller("v1", role="viewer", team="growth"), TEAM_LINK, True),
    (Caller("b1", team="brand"), TEAM_LINK, False),
    (Caller("a1"), TEAM_LINK, False),  # its maker, now without the team, no longer
    (Caller("solo"), OWN_LINK, True),  # a key of no team: its own links
    (Caller("other"), OWN_LINK, False),
    (Caller("x", team="growth"), OWN_LINK, False),
    (Caller("admin", role="admin"), TEAM_LINK, True),
    (Caller("a2", team="growth", domains=("elsewhere.example",)), TEAM_LINK, False),  # not on its domains
    (Caller("admin", role="admin", domains=("elsewhere.example",)), TEAM_LINK, False),
])
def test_who_sees_a_link(caller: Caller, link: Any, sees: bool) -> None:
    assert caller.may_see(link) is sees


def test_a_viewer_writes_nothing_and_a_limited_key_creates_on_its_domains_only() -> None:
    with pytest.raises(Forbidden):
        Caller("v", role="viewer").may_write()
    with pytest.raises(Forbidden):
        Caller("d", domains=("s.example.com",)).may_create_on("127.0.0.1:3000")
    Caller("d", domains=("s.example.com",)).may_create_on("s.example.com")


@pytest.mark.parametrize("given, fields", [
    ({"name": ""}, ["name"]),
    ({"name": "x" * 101, "role": "owner"}, ["name", "role"]),
    ({"team": "a|b", "domains": ["nowhere.example"], "expires_at": "2001-01-01T00:00:00Z"}, ["team", "domains", "expires_at"]),
    ({"domains": []}, ["domains"]),
    ({"expires_at": "tomorrow"}, ["expires_at"]),
])
def test_every_bad_field_of_a_key_is_named(given: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        _checked(given, SETTINGS, NOW)
    assert [error.field for error in refused.value.errors] == fields


def test_good_fields_are_kept_as_stored() -> None:
    values = _checked({"name": " 市场部 ", "team": " 增长组 ", "domains": ["S.example.com", "s.example.com"],
                       "expires_at": "2030-01-01T08:00:00+08:00"}, SETTINGS, NOW)
    assert values == {"name": "市场部", "team": "增长组", "domains": ["s.example.com"], "expires_at": 1_893_456_000_000}
