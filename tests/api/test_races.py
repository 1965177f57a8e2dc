"""Races over real HTTP, each with its invariant."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import requests

from support import Devserver

T = TypeVar("T")


def _together(count: int, work: Callable[[int], T]) -> list[T]:
    """Run work(i) for i in range(count) at once (behind a barrier); their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("limit, visitors", [(25, 100), (25, 40), (200, 240)])
def test_max_visits_under_concurrent_visits(server: Devserver, api: requests.Session, limit: int, visitors: int) -> None:
    """The limit is spread as tickets over the link's counters (25: 3 of them; 200: all 16)."""
    server.drain()  # a quiet server: no backlog of other tests' stream records in flight
    code = api.post(f"{server.url}/api/links", json={"url": "https://example.com/r", "max_visits": limit}).json()["code"]
    statuses = _together(visitors, lambda i: requests.get(f"{server.url}/{code}", allow_redirects=False).status_code)
    assert sorted(statuses) == [302] * limit + [410] * (visitors - limit)
    server.drain()
    link = api.get(f"{server.url}/api/links/{code}").json()
    assert link["visits"] == limit and link["state"] == "exhausted"  # never over-counted


def test_patch_against_delete_never_resurrects_a_link(server: Devserver, api: requests.Session) -> None:
    for _ in range(10):
        code = api.post(f"{server.url}/api/links", json={"url": "https://example.com/p"}).json()["code"]

        def act(i: int, code: str = code) -> int:
            with requests.Session() as session:
                session.headers["x-api-key"] = server.api_key
                if i == 0:
                    return session.delete(f"{server.url}/api/links/{code}").status_code
                return session.patch(f"{server.url}/api/links/{code}", json={"title": f"t{i}"}).status_code

        statuses = _together(6, act)
        assert statuses[0] == 204
        assert set(statuses[1:]) <= {200, 404}
        # whatever interleaving happened, the delete won in the end: no PATCH recreated the item
        assert api.get(f"{server.url}/api/links/{code}").status_code == 404
        assert requests.get(f"{server.url}/{code}", allow_redirects=False).status_code == 404


def test_expiry_at_the_exact_second_never_flaps(server: Devserver, api: requests.Session) -> None:
    """The real clock running through the second of expiry, requests back to back (times are the
    server's: the wall clock plus whatever other tests moved it by)."""
    server.drain()  # a quiet server: no backlog of other tests' stream records in flight
    expires = int(server.now()) + 2
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    code = api.post(f"{server.url}/api/links", json={"url": "https://example.com/e", "expires_at": stamp}).json()["code"]
    seen: list[tuple[float, int, float]] = []
    while server.now() < expires + 1:
        before = server.now()
        status = requests.get(f"{server.url}/{code}", allow_redirects=False).status_code
        seen.append((before, status, server.now()))
    statuses = [s for _, s, _ in seen]
    assert set(statuses) <= {302, 410}
    first_gone = statuses.index(410)
    assert all(s == 410 for s in statuses[first_gone:])  # once expired, always expired
    # the server decided inside [before, after]: no redirect after the second, no 410 before it
    assert all(before < expires for before, s, _ in seen if s == 302)
    assert all(after >= expires for _, s, after in seen if s == 410)


def test_alias_created_by_two_owners_at_once_has_one_owner(server: Devserver) -> None:
    alias = "race-" + uuid.uuid4().hex[:8]
    keys = server.api_keys[:2]

    def create(i: int) -> int:
        return requests.post(f"{server.url}/api/links", json={"url": f"https://example.com/{i}", "alias": alias},
                             headers={"x-api-key": keys[i % 2]}).status_code

    statuses = _together(10, create)
    assert sorted(statuses) == [201] + [409] * 9
    owners = [requests.get(f"{server.url}/api/links/{alias}", headers={"x-api-key": k}).status_code for k in keys]
    assert sorted(owners) == [200, 404]


def _guess(server: Devserver, code: str, password: str, source_ip: str) -> int:
    return requests.post(f"{server.url}/{code}", data={"password": password}, allow_redirects=False,
                         headers={"X-Forwarded-For": source_ip}).status_code


def test_parallel_password_guesses_from_one_visitor_get_one_checked(server: Devserver, api: requests.Session) -> None:
    """At most one guess checked per back-off window (1 s after the first, 2 s after the second …),
    however many arrive at once: fifteen of sixteen parallel guesses are refused unchecked, unless
    the burst outlasts the window (a slow machine), which then allows exactly one more. The right
    password, if it is checked, forgives the back-off: one more guess may then be checked."""
    for trial in range(3):
        code = api.post(f"{server.url}/api/links", json={"url": "https://example.com/vault", "password": "right-one"}).json()["code"]
        guesses = ["right-one" if i == 7 else f"wrong-{i}" for i in range(16)]
        started = time.monotonic()
        statuses = _together(16, lambda i, code=code, guesses=guesses, trial=trial: _guess(server, code, guesses[i], f"198.51.100.{trial}"))
        elapsed = time.monotonic() - started
        checked = 16 - statuses.count(429)
        windows = 1 + int(math.log2(1 + elapsed))  # back-offs of 1, 2, 4 … s fit that many checks into the burst
        assert 1 <= checked <= windows + (303 in statuses), (statuses, elapsed)
        assert set(statuses) <= {401, 303, 429}


def test_parallel_guesses_from_many_addresses_meet_the_link_ceiling(server: Devserver, api: requests.Session) -> None:
    code = api.post(f"{server.url}/api/links", json={"url": "https://example.com/vault", "password": "right-one"}).json()["code"]
    server.advance_clock(60 - server.now() % 60 + 0.2)  # at the start of a minute: all 30 fall in one
    statuses = _together(30, lambda i: _guess(server, code, f"wrong-{i}", f"203.0.113.{i}"))
    assert statuses.count(401) <= 20 and statuses.count(401) + statuses.count(429) == 30, statuses


def test_parallel_creates_of_different_aliases_each_get_their_own_link(server: Devserver, api: requests.Session) -> None:
    """Each request is answered for itself: a function instance takes one request at a time (the
    devserver once let two requests share the Powertools resolver's current event: a false 409)."""
    aliases = ["par-" + uuid.uuid4().hex[:10] for _ in range(16)]

    def create(i: int) -> int:
        with requests.Session() as session:
            session.headers["x-api-key"] = server.api_key
            answer = session.post(f"{server.url}/api/links", json={"url": f"https://example.com/par/{i}", "alias": aliases[i]})
            body = answer.json()
            assert answer.status_code != 201 or (body["code"], body["url"]) == (aliases[i], f"https://example.com/par/{i}")
            return answer.status_code

    assert _together(16, create) == [201] * 16


def test_a_change_that_returned_is_obeyed_by_the_very_next_visits(server: Devserver, api: requests.Session) -> None:
    """25 changes (23 new URLs and a delete on one link, a disable on another), each followed
    at once by 8 visitors together: none of the 200 visits is answered from before the change."""
    def visits(code: str) -> list[tuple[int, str]]:
        def visit(_: int) -> tuple[int, str]:
            answer = requests.get(f"{server.url}/{code}", allow_redirects=False)
            return answer.status_code, answer.headers.get("Location", "")
        return _together(8, visit)

    wrong: list[tuple[str, tuple[int, str]]] = []
    code = api.post(f"{server.url}/api/links", json={"url": "https://example.com/v0"}).json()["code"]
    visits(code)  # the redirect keeps its copy
    for n in range(1, 24):
        assert api.patch(f"{server.url}/api/links/{code}", json={"url": f"https://example.com/v{n}"}).status_code == 200
        wrong += [(f"v{n}", seen) for seen in visits(code) if seen != (302, f"https://example.com/v{n}")]
    assert api.delete(f"{server.url}/api/links/{code}").status_code == 204
    wrong += [("deleted", seen) for seen in visits(code) if seen[0] != 404]
    other = api.post(f"{server.url}/api/links", json={"url": "https://example.com/on"}).json()["code"]
    visits(other)
    assert api.patch(f"{server.url}/api/links/{other}", json={"disabled": True}).status_code == 200
    wrong += [("disabled", seen) for seen in visits(other) if seen[0] != 410]
    assert wrong == []
