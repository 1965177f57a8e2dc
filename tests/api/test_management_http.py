"""Issue 4's acceptance run over real HTTP: two keys, 150 links, pages, owners, limits."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from support import LINK_CACHE_SECONDS, Devserver

# A owns only the 150 links of the acceptance run; B is the other owner; C makes the rest.
A, B, C = "owner-key-a-000000000000", "owner-key-b-000000000000", "owner-key-c-000000000000"
OPERATOR = "operator-key-000000000000"  # LOCAL_ADMIN_KEYS: sees and changes every link


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devserver]:
    """A devserver of its own, so key A owns exactly the links the acceptance run makes."""
    dev = Devserver(tmp_path_factory.mktemp("manage"), LOCAL_API_KEYS=f"{A},{B},{C}", LOCAL_ADMIN_KEYS=OPERATOR).start()
    yield dev
    dev.stop()


def _session(key: str) -> requests.Session:
    session = requests.Session()
    session.headers["x-api-key"] = key
    return session


def test_two_owners_150_links_pages_and_isolation(fresh: Devserver) -> None:
    a, b = _session(A), _session(B)
    made: list[str] = []
    for start in (0, 50):
        items = [{"url": f"https://example.com/item/{start + i}", "tags": ["bulk"]} for i in range(50)]
        if start:
            items[25] = {"url": "javascript:alert(1)"}  # a bad item in the middle fails alone
        answer = a.post(f"{fresh.url}/api/links/batch", json={"links": items})
        assert answer.status_code == 200
        results = answer.json()["results"]
        assert len(results) == 50
        made += [r["link"]["code"] for r in results if r["status"] == 201]
        if start:
            assert results[25]["status"] == 422 and results[24]["status"] == results[26]["status"] == 201
    while len(made) < 150:
        answer = a.post(f"{fresh.url}/api/links", json={"url": f"https://example.com/single/{len(made)}"})
        assert answer.status_code == 201
        made.append(answer.json()["code"])
    fresh.drain()  # listed once the search index has them (kept from the stream)

    listed: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = a.get(f"{fresh.url}/api/links", params=params).json()
        listed += page["links"]
        pages += 1
        cursor = page["cursor"]
        if not cursor:
            break
    codes = [link["code"] for link in listed]
    assert len(codes) == len(set(codes)) == 150 and set(codes) == set(made)
    assert pages in (3, 4)  # 3 full pages; a 4th, empty one only if the index said "maybe more"
    stamps = [link["created_at"] for link in listed]
    assert stamps == sorted(stamps, reverse=True)

    assert b.get(f"{fresh.url}/api/links").json() == {"links": [], "cursor": None}
    victim = made[0]
    assert b.get(f"{fresh.url}/api/links/{victim}").status_code == 404
    assert b.patch(f"{fresh.url}/api/links/{victim}", json={"url": "https://evil.example/"}).status_code == 404
    assert b.delete(f"{fresh.url}/api/links/{victim}").status_code == 404
    assert a.get(f"{fresh.url}/api/links/{victim}").json()["url"] == "https://example.com/item/0"


def test_patched_expiry_shows_on_the_next_redirect(fresh: Devserver) -> None:
    a = _session(C)
    code = a.post(f"{fresh.url}/api/links", json={"url": "https://example.com/patched", "validity": "1d"}).json()["code"]
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(fresh.now() + 2))
    assert a.patch(f"{fresh.url}/api/links/{code}", json={"expires_at": soon}).status_code == 200
    assert requests.get(f"{fresh.url}/{code}", allow_redirects=False).status_code == 302
    fresh.advance_clock(3)
    assert requests.get(f"{fresh.url}/{code}", allow_redirects=False).status_code == 410
    assert a.patch(f"{fresh.url}/api/links/{code}", json={"validity": "7d"}).json()["state"] == "active"
    fresh.advance_clock(LINK_CACHE_SECONDS)  # the redirect's copy of the link is at most this old
    assert requests.get(f"{fresh.url}/{code}", allow_redirects=False).status_code == 302


def test_fifty_concurrent_visits_with_max_visits_ten(fresh: Devserver) -> None:
    a = _session(C)
    code = a.post(f"{fresh.url}/api/links", json={"url": "https://example.com/limited", "max_visits": 10}).json()["code"]
    barrier = threading.Barrier(50)
    statuses: list[int] = []

    def visit() -> None:
        barrier.wait()
        statuses.append(requests.get(f"{fresh.url}/{code}", allow_redirects=False).status_code)

    threads = [threading.Thread(target=visit) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [302] * 10 + [410] * 40
    fresh.drain()  # a limited link's visits are counted on its counters, added up by StatsFunction
    link = a.get(f"{fresh.url}/api/links/{code}").json()
    assert link["visits"] == 10 and link["state"] == "exhausted"


def test_retried_create_with_one_idempotency_key_makes_one_link(fresh: Devserver) -> None:
    a = _session(C)
    tag = uuid.uuid4().hex[:8]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    answers = [a.post(f"{fresh.url}/api/links", json={"url": "https://example.com/once", "tags": [tag]}, headers=key)
               for _ in range(3)]
    assert [r.status_code for r in answers] == [201, 201, 201]
    assert len({r.json()["code"] for r in answers}) == 1
    fresh.drain()
    assert len(a.get(f"{fresh.url}/api/links", params={"tag": tag}).json()["links"]) == 1


def test_openapi_and_docs_are_served(fresh: Devserver) -> None:
    document = requests.get(f"{fresh.url}/api/openapi.json").json()
    assert document["openapi"].startswith("3.") and "/api/links/{code}" in document["paths"]
    assert "redoc" in requests.get(f"{fresh.url}/api/docs").text


def test_an_operator_takes_down_an_anonymous_link_and_sees_every_owner(fresh: Devserver) -> None:
    operator, b = _session(OPERATOR), _session(C)  # C, whose links no other test counts
    page_made = requests.post(f"{fresh.url}/api/shorten", json={"url": "https://example.com/abuse"}).json()
    owned = b.post(f"{fresh.url}/api/links", json={"url": "https://example.com/c-owns"}).json()
    assert b.get(f"{fresh.url}/api/links/{page_made['code']}").status_code == 404  # nobody else's
    seen = operator.get(f"{fresh.url}/api/links/{page_made['code']}")
    assert seen.status_code == 200 and seen.json()["owner"] is None
    assert b.get(f"{fresh.url}/api/links/{owned['code']}").json()["owner"] == owned["owner"] is not None
    disabled = operator.patch(f"{fresh.url}/api/links/{page_made['code']}", json={"disabled": True})
    assert disabled.status_code == 200 and disabled.json()["state"] == "disabled"
    assert requests.get(f"{fresh.url}/{page_made['code']}", allow_redirects=False).status_code == 410
    fresh.drain()  # the listing's index is kept from the stream
    every: dict[str, str | None] = {}
    cursor = None
    while True:
        page = operator.get(f"{fresh.url}/api/links", params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        every |= {link["code"]: link["owner"] for link in page["links"]}
        cursor = page["cursor"]
        if not cursor:
            break
    assert every[page_made["code"]] is None and every[owned["code"]] == owned["owner"] is not None
    assert operator.delete(f"{fresh.url}/api/links/{owned['code']}").status_code == 204
    assert b.get(f"{fresh.url}/api/links/{owned['code']}").status_code == 404


def test_the_operators_export_of_every_link_has_no_formula(fresh: Devserver) -> None:
    from test_csv_http import formula_free_export

    formula_free_export(_session(C), _session(OPERATOR), fresh)
