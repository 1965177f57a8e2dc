"""Real HTTP against `python -m devserver` (what `make run` starts)."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from support import Devserver, alias, eventually, link_count, problem_of, seed_link


def test_head_answers_wherever_get_does_without_a_body(server: Devserver, api: requests.Session) -> None:
    made = api.post(f"{server.url}/api/links", json={"url": "https://example.com/head"}).json()
    code = made["code"]
    keyed = {"x-api-key": server.api_key}
    for path, headers in [("/", {}), ("/console", {}), ("/static/app.css", {}), ("/favicon.ico", {}),
                          (f"/qr?url={made['short_url']}", {}), ("/api/docs", {}), ("/api/docs/viewer.js", {}),
                          ("/api/openapi.json", {}), ("/api/domains", {}), ("/api/links", keyed), (f"/api/links/{code}", keyed),
                          (f"/api/links/{code}/stats", keyed), (f"/api/links/{code}/qr", keyed), (f"/{code}", {})]:
        get = requests.get(f"{server.url}{path}", headers=headers, allow_redirects=False)
        head = requests.head(f"{server.url}{path}", headers=headers, allow_redirects=False)
        assert (head.status_code, head.content) == (get.status_code, b""), path
        assert head.headers.get("Content-Type") == get.headers.get("Content-Type"), path


@pytest.mark.devserver
def test_create_with_the_key_then_follow_to_the_exact_url(server: Devserver, api: requests.Session) -> None:
    url = "https://example.com/docs/page?lang=zh-CN&q=%E7%9F%AD%E9%93%BE#part-2"
    created = api.post(f"{server.url}/api/links", json={"url": url, "validity": "7d"})
    assert created.status_code == 201
    link = created.json()
    assert server.domains == [f"127.0.0.1:{server.port}", f"localhost:{server.port}"]  # followable locally
    assert link["short_url"] == f"http://127.0.0.1:{server.port}/{link['code']}"
    assert created.headers["Location"] == f"/api/links/{link['code']}?domain=127.0.0.1%3A{server.port}"
    follow = requests.get(f"{server.url}/{link['code']}", allow_redirects=False)
    assert follow.status_code == 302 and follow.headers["Location"] == url
    assert follow.headers["Cache-Control"].startswith("private, max-age=")
    head = requests.head(f"{server.url}/{link['code']}", allow_redirects=False)
    assert head.status_code == 302 and head.headers["Location"] == url and head.content == b""


def test_api_gateway_answers_missing_or_wrong_keys_and_unknown_routes(server: Devserver) -> None:
    """API Gateway's own refusals are problem+json too (the template's GatewayResponses)."""
    body = {"url": "https://example.com"}
    # No key at all: the key authorizer's identity source is missing, so API Gateway answers 401
    # without calling it (identitySource: https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html)
    assert problem_of(requests.post(f"{server.url}/api/links", json=body), 401)["type"].endswith("/api-key")
    wrong = problem_of(requests.post(f"{server.url}/api/links", json=body, headers={"x-api-key": "not-a-key"}), 403)
    assert wrong["type"].endswith("/api-key")
    problem_of(requests.delete(f"{server.url}/api/domains"), 404)
    problem_of(requests.get(f"{server.url}/no/such/route"), 404)
    big = requests.post(f"{server.url}/api/shorten", data=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    problem_of(big, 413)


def test_anonymous_shorten_and_domains(server: Devserver) -> None:
    domains = requests.get(f"{server.url}/api/domains").json()
    created = requests.post(f"{server.url}/api/shorten", json={"url": "https://example.com/anon", "domain": domains["domains"][1], "validity": "1d"})
    assert created.status_code == 201
    assert created.json()["short_url"] == f"http://{domains['domains'][1]}/{created.json()['code']}"
    assert created.headers["Location"] == created.json()["short_url"]


@pytest.mark.devserver
def test_seeded_expired_link_is_410_before_and_after_the_sweeper_deletes_it(server: Devserver) -> None:
    code = seed_link(server.dynamodb, domain=server.domains[0], code=alias("h"), expires_in=-1, now=server.now())
    gone = requests.get(f"{server.url}/{code}", allow_redirects=False)
    problem_of(gone, 410)
    key = {"link_id": {"S": f"{server.domains[0]}/{code}"}}
    eventually(lambda: "Item" not in server.dynamodb.get_item(TableName="LinksTable", Key=key))  # the sweeper: 1 s, 3 s late
    server.drain()  # its REMOVE reached the search index, which keeps the ended life
    problem_of(requests.get(f"{server.url}/{code}", allow_redirects=False), 410)
    problem_of(requests.get(f"{server.url}/{alias('never')}", allow_redirects=False), 404)  # a code never made


@pytest.mark.devserver
def test_a_link_expires_at_its_second(server: Devserver, api: requests.Session) -> None:
    expires = int(server.now()) + 60
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    link = api.post(f"{server.url}/api/links", json={"url": "https://example.com/brief", "expires_at": stamp}).json()
    assert requests.get(f"{server.url}/{link['code']}", allow_redirects=False).status_code == 302
    server.advance_clock(expires - server.now() - 0.5)  # half a second before: still valid
    assert requests.get(f"{server.url}/{link['code']}", allow_redirects=False).status_code == 302
    server.advance_clock(expires - server.now())  # its second has come
    problem_of(requests.get(f"{server.url}/{link['code']}", allow_redirects=False), 410)


@pytest.mark.parametrize(
    "data, headers, status",
    [
        (b"{oops", {"Content-Type": "application/json"}, 400),
        (b"x" * (2 * 1024 * 1024), {"Content-Type": "application/json"}, 413),
        (b'{"url": "https://example.com"}', {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        (b'{"url": "ftp://example.com", "alias": "no way", "validity": "3d"}', {"Content-Type": "application/json"}, 422),
        (b'{"url": "https://example.com", "surprise": true}', {"Content-Type": "application/json"}, 422),
    ],
)
def test_bad_input_gets_a_problem_and_stores_nothing(server: Devserver, api: requests.Session, data: bytes,
                                                     headers: dict[str, str], status: int) -> None:
    before = None if server.remote else link_count(server.dynamodb)
    problem_of(api.post(f"{server.url}/api/links", data=data, headers=headers), status)
    assert server.remote or link_count(server.dynamodb) == before


def test_taken_alias_is_409(server: Devserver, api: requests.Session) -> None:
    code = alias("h")
    assert api.post(f"{server.url}/api/links", json={"url": "https://a.example/", "alias": code}).status_code == 201
    problem = problem_of(api.post(f"{server.url}/api/links", json={"url": "https://b.example/", "alias": code}), 409)
    assert code in problem["detail"]


def test_twenty_concurrent_creates_of_one_alias_have_one_winner(server: Devserver) -> None:
    code = alias("h")
    barrier = threading.Barrier(20)
    results: list[tuple[int, str]] = []

    def create(i: int) -> None:
        url = f"https://racer-{i}.example/"
        with requests.Session() as session:
            barrier.wait()
            answer = session.post(f"{server.url}/api/links", json={"url": url, "alias": code},
                                  headers={"x-api-key": server.api_key})
        results.append((answer.status_code, url))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(s for s, _ in results)
    assert statuses == [201] + [409] * 19
    winner = next(url for s, url in results if s == 201)
    assert requests.get(f"{server.url}/{code}", allow_redirects=False).headers["Location"] == winner
