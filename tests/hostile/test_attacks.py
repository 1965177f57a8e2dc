"""Hand-written attacks and their expected answers, over real HTTP."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from support import Devserver, OTHER_KEY, problem_of

LINKS = "/api/links"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "https://bank.com@evil.example/login",
        "https://bank.com:443@evil.example/",
        "https://example.com/\r\nSet-Cookie: session=stolen",
        "https://example.com/%0d%0a\r\nLocation: https://evil.example",
        "//evil.example/no-scheme",
        "https:\\\\evil.example\\path",
    ],
)
def test_dangerous_urls_are_refused(server: Devserver, api: requests.Session, url: str) -> None:
    problem_of(api.post(server.url + LINKS, json={"url": url}), 422, "url")


def test_links_to_our_own_short_domains_are_refused(server: Devserver, api: requests.Session) -> None:
    for domain in server.domains:
        problem_of(api.post(server.url + LINKS, json={"url": f"http://{domain}/loop"}), 422, "url")


def test_crlf_in_an_alias_is_refused_and_encoded_crlf_stays_encoded(server: Devserver, api: requests.Session) -> None:
    problem_of(api.post(server.url + LINKS, json={"url": "https://example.com", "alias": "a\r\nX-Injected: 1"}), 422, "alias")
    made = api.post(server.url + LINKS, json={"url": "https://example.com/a%0D%0AX-Injected:%201"}).json()
    follow = requests.get(f"{server.url}/{made['code']}", allow_redirects=False)
    assert follow.headers["Location"] == "https://example.com/a%0D%0AX-Injected:%201"
    assert "X-Injected" not in follow.headers


def test_idn_homographs_are_stored_as_punycode(server: Devserver, api: requests.Session) -> None:
    made = api.post(server.url + LINKS, json={"url": "https://аpple.com/login"}).json()  # Cyrillic а
    assert made["url"] == "https://xn--pple-43d.com/login"
    assert requests.get(f"{server.url}/{made['code']}", allow_redirects=False).headers["Location"] == made["url"]


def test_huge_nested_and_mistyped_bodies(server: Devserver, api: requests.Session) -> None:
    problem_of(api.post(server.url + LINKS, data=b'{"url": "' + b"a" * (2 * 1024 * 1024) + b'"}',
                      headers={"Content-Type": "application/json"}), 413)
    problem_of(api.post(server.url + LINKS, data=b"[" * 30000 + b"]" * 30000, headers={"Content-Type": "application/json"}), 400)
    problem_of(api.post(server.url + LINKS, data=json.dumps({"url": "https://example.com"}), headers={"Content-Type": "text/xml"}), 415)
    problem_of(api.post(server.url + LINKS, data="url=https://example.com", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    problem_of(api.post(server.url + LINKS, json={"url": ["https://example.com"]}), 422, "url")
    problem_of(api.post(server.url + LINKS, json={"url": "https://example.com", "max_visits": "10"}), 422, "max_visits")
    problem_of(api.post(server.url + LINKS, json={"url": "https://example.com", "forward_query": "yes"}), 422, "forward_query")


def test_another_owners_code_and_forged_cursors(server: Devserver, api: requests.Session) -> None:
    code = api.post(server.url + LINKS, json={"url": "https://example.com/mine"}).json()["code"]
    other = requests.Session()
    other.headers["x-api-key"] = OTHER_KEY
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"disabled": True}} if method == "patch" else {}
        problem_of(getattr(other, method)(f"{server.url}{LINKS}/{code}", **kwargs), 404)
    assert api.get(f"{server.url}{LINKS}/{code}").json()["disabled"] is False
    # a cursor is a position, never an owner: hand-made ones are refused or stay in the caller's own listing
    for cursor in ("", "AAAA", "eyJvd25lciI6ICJ0ZXN0LWtleS1hIn0", "W1swXSwgMV0", "../../etc/passwd", "🙂"):
        answer = other.get(server.url + LINKS, params={"cursor": cursor})
        assert answer.status_code in (200, 422)
        if answer.status_code == 200:
            assert all(link["code"] != code for link in answer.json()["links"])


def test_markup_in_a_title_is_data_not_html(server: Devserver, api: requests.Session) -> None:
    title = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    made = api.post(server.url + LINKS, json={"url": "https://example.com/t", "title": title, "alias": "t-" + uuid.uuid4().hex[:8]})
    assert made.json()["title"] == title  # stored as given ...
    read = api.get(f"{server.url}{LINKS}/{made.json()['code']}")
    assert read.headers["Content-Type"] == "application/json" and read.headers["X-Content-Type-Options"] == "nosniff"
    page = requests.get(f"{server.url}/", headers={"Accept-Language": "en"}).text
    assert "<script>alert" not in page  # ... and never written into a page


def test_html_in_a_path_is_escaped_on_the_error_page(server: Devserver) -> None:
    answer = requests.get(f"{server.url}/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", headers={"Accept": "text/html"})
    assert answer.status_code == 404 and "<img src=x" not in answer.text
