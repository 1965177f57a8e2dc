"""Issue 27 end to end on a devserver of its own: an admin hands out keys; a team shares its
links; viewers read; a domain-limited key stays on its domain; revoked and expired keys are out
on their next request; no answer but the create's carries a secret, and the table holds hashes;
every change names the key that made it, in the link and in its events."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from support import Devserver, Webhook, eventually, keyed

pytestmark = pytest.mark.devserver
ADMIN = "keys-admin-key-000000000000"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, webhook: Webhook) -> Iterator[Devserver]:
    server = Devserver(tmp_path_factory.mktemp("keys"), LOCAL_ADMIN_KEYS=ADMIN, EVENT_WEBHOOK_URL=webhook.url).start()
    yield server
    server.stop()


def _make(dev: Devserver, **fields: Any) -> dict[str, Any]:
    answer = keyed(ADMIN).post(f"{dev.url}/api/keys", json=fields)
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made["key"].startswith("slk_") and answer.headers["Location"] == f"/api/keys/{made['id']}"
    return dict(made)


@pytest.fixture(scope="module")
def keys(dev: Devserver) -> dict[str, dict[str, Any]]:
    return {
        "A1": _make(dev, name="A1 增长", role="member", team="growth"),
        "A2": _make(dev, name="A2", role="member", team="growth"),
        "V1": _make(dev, name="V1", role="viewer", team="growth"),
        "B1": _make(dev, name="B1", role="member", team="brand"),
        "D1": _make(dev, name="D1", role="member", team="growth", domains=[dev.domains[1]]),
    }


def _problem(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    return dict(answer.json())


def test_a_team_shares_its_links_viewers_read_and_other_teams_see_nothing(dev: Devserver, keys: dict[str, dict[str, Any]],
                                                                          webhook: Webhook) -> None:
    a1, a2, v1, b1 = (keyed(keys[k]["key"]) for k in ("A1", "A2", "V1", "B1"))
    code = "team-" + uuid.uuid4().hex[:8]
    made = a1.post(f"{dev.url}/api/links", json={"url": "https://example.com/growth", "alias": code}).json()
    a1_actor = {"key_id": keys["A1"]["id"], "name": "A1 增长"}
    assert made["team"] == "growth" and made["created_by"] == made["updated_by"] == a1_actor
    link = f"{dev.url}/api/links/{code}"

    changed = a2.patch(link, json={"title": "双十二"})  # a second member of the team changes it
    assert changed.status_code == 200 and changed.json()["updated_by"] == {"key_id": keys["A2"]["id"], "name": "A2"}
    assert v1.get(link).json()["title"] == "双十二" and v1.get(f"{link}/stats").status_code == 200  # the viewer reads
    for refused in (v1.post(f"{dev.url}/api/links", json={"url": "https://example.com/v"}), v1.patch(link, json={"title": "v"}),
                    v1.delete(link), v1.post(f"{dev.url}/api/links/batch", json={"links": [{"url": "https://example.com/v"}]})):
        _problem(refused, 403)
    _problem(b1.get(link), 404)  # another team's link does not exist for it
    _problem(b1.patch(link, json={"title": "b"}), 404)
    dev.drain()  # listed once the search index has it
    assert code in {item["code"] for item in a2.get(f"{dev.url}/api/links", params={"q": code}).json()["links"]}
    assert code in {item["code"] for item in v1.get(f"{dev.url}/api/links").json()["links"]}  # the team's list
    assert code not in {item["code"] for item in b1.get(f"{dev.url}/api/links").json()["links"]}

    assert a2.delete(link).status_code == 204
    dev.drain()

    def actors() -> dict[str, Any]:
        events = [e for e in list(webhook.received) if e["detail"]["link"]["code"] == code]
        return {e["detail-type"]: e["detail"]["actor"] for e in events}

    seen = eventually(actors, lambda found: {"link.created", "link.updated", "link.deleted"} <= set(found))
    a2_actor = {"key_id": keys["A2"]["id"], "name": "A2"}
    assert seen == {"link.created": a1_actor, "link.updated": a2_actor, "link.deleted": a2_actor}


def test_a_domain_limited_key_creates_and_sees_only_on_its_domain(dev: Devserver, keys: dict[str, dict[str, Any]]) -> None:
    d1, a1 = keyed(keys["D1"]["key"]), keyed(keys["A1"]["key"])
    _problem(d1.post(f"{dev.url}/api/links", json={"url": "https://example.com/d", "domain": dev.domains[0]}), 403)
    mine = d1.post(f"{dev.url}/api/links", json={"url": "https://example.com/d", "domain": dev.domains[1]})
    assert mine.status_code == 201 and mine.json()["domain"] == dev.domains[1]
    other = a1.post(f"{dev.url}/api/links", json={"url": "https://example.com/d0", "domain": dev.domains[0]}).json()
    _problem(d1.get(f"{dev.url}/api/links/{other['code']}", params={"domain": dev.domains[0]}), 404)  # same team, other domain
    assert a1.get(f"{dev.url}/api/links/{mine.json()['code']}", params={"domain": dev.domains[1]}).status_code == 200


def test_revoked_and_expired_keys_are_refused_on_their_next_request(dev: Devserver) -> None:
    revoked = _make(dev, name="leaving", team="growth")
    session = keyed(revoked["key"])
    assert session.get(f"{dev.url}/api/links").status_code == 200
    assert keyed(ADMIN).delete(f"{dev.url}/api/keys/{revoked['id']}").status_code == 204
    assert _problem(session.get(f"{dev.url}/api/links"), 401)["status"] == 401
    assert keyed(ADMIN).get(f"{dev.url}/api/keys/{revoked['id']}").json()["state"] == "revoked"

    soon = _make(dev, name="campaign week", team="growth",
                 expires_at=_iso(dev.now() + 120))
    assert keyed(soon["key"]).get(f"{dev.url}/api/links").status_code == 200
    dev.advance_clock(121)
    _problem(keyed(soon["key"]).get(f"{dev.url}/api/links"), 401)
    _problem(keyed(soon["key"][:-1] + ("A" if soon["key"][-1] != "A" else "B")).get(f"{dev.url}/api/links"), 401)  # a wrong secret


def _iso(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


def test_no_answer_but_the_create_carries_a_secret_and_the_table_holds_hashes(dev: Devserver, keys: dict[str, dict[str, Any]]) -> None:
    renamed = _make(dev, name="to rename")
    secrets = [made["key"] for made in (*keys.values(), renamed)]
    admin = keyed(ADMIN)
    answers = [admin.get(f"{dev.url}/api/keys"), admin.get(f"{dev.url}/api/keys/{keys['A1']['id']}"),
               admin.patch(f"{dev.url}/api/keys/{renamed['id']}", json={"name": "renamed"}),
               keyed(keys["V1"]["key"]).get(f"{dev.url}/api/keys"), keyed(keys["V1"]["key"]).get(f"{dev.url}/api/keys/me")]
    assert [a.status_code for a in answers] == [200] * 5
    assert not any(secret in a.text for a in answers for secret in secrets)
    assert all("key" not in body for body in answers[0].json()["keys"])
    assert answers[3].json()["keys"] == [answers[4].json()] and answers[4].json()["role"] == "viewer"  # a viewer: its own only
    stored = json.dumps(dev.dynamodb.scan(TableName="KeysTable")["Items"])
    assert not any(secret in stored for secret in secrets)
    assert all(hashlib.sha256(secret.encode()).hexdigest() in stored for secret in secrets)


def test_only_admins_manage_keys_and_bad_fields_are_named_together(dev: Devserver, keys: dict[str, dict[str, Any]]) -> None:
    member = keyed(keys["A1"]["key"])
    _problem(member.post(f"{dev.url}/api/keys", json={"name": "mine"}), 403)
    _problem(member.delete(f"{dev.url}/api/keys/{keys['B1']['id']}"), 403)
    bad = _problem(keyed(ADMIN).post(f"{dev.url}/api/keys", json={
        "name": "x" * 101, "role": "owner", "team": "a|b", "domains": ["elsewhere.example"], "expires_at": "2001-01-01T00:00:00Z"}), 422)
    assert [e["field"] for e in bad["errors"]] == ["name", "role", "team", "domains", "expires_at"]  # every bad field at once
    _problem(keyed(ADMIN).get(f"{dev.url}/api/keys/{'0' * 12}"), 404)


def test_keys_from_configuration_work_as_before(dev: Devserver) -> None:
    own = keyed(dev.api_key)
    me = own.get(f"{dev.url}/api/keys/me").json()
    assert me["role"] == "member" and me["team"] is None  # a team of its own
    assert keyed(ADMIN).get(f"{dev.url}/api/keys/me").json()["role"] == "admin"
    _problem(requests.get(f"{dev.url}/api/links", headers={"x-api-key": "not-a-key-at-all"}), 403)  # API Gateway's own check
