"""Hand-written attacks and their expected answers, over real HTTP."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from support import Devserver, problem_of

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
        "//evil.example/no-scheme",
        # what the URL Standard refuses (a browser cannot open it)
        "http://[::%31]/",  # an IPv6 zone id
        "http://1.2.3.4.5/",
        "http://256.256.256.256/",
        "https://0x100000000/test",
        "http://💩.123/",
        "https://" + ".".join(["a" * 63] * 5) + "/",  # 319 characters: longer than DNS allows
        "http://0.0.0.0:8080/",  # this machine, by any name
        "http://0:8080/",
    ],
)
def test_dangerous_urls_are_refused(server: Devserver, api: requests.Session, url: str) -> None:
    problem_of(api.post(server.url + LINKS, json={"url": url}), 422, "url")


@pytest.mark.parametrize("url, stored", [
    # a browser drops tabs and newlines from a URL: no header can be smuggled into Location
    ("https://example.com/\r\nSet-Cookie: session=stolen", "https://example.com/Set-Cookie:%20session=stolen"),
    ("https://example.com/%0d%0a\r\nLocation: https://evil.example", "https://example.com/%0d%0aLocation:%20https://evil.example"),
    ("https:\\\\example.org\\path", "https://example.org/path"),
    ("https://faß.ExAmPlE/", "https://xn--fa-hia.example/"),  # UTS #46 non-transitional, not IDNA 2003's "fass"
])
def test_urls_are_stored_and_redirected_as_browsers_read_them(server: Devserver, api: requests.Session, url: str,
                                                             stored: str) -> None:
    made = api.post(server.url + LINKS, json={"url": url})
    assert made.status_code == 201 and made.json()["url"] == stored
    follow = requests.get(f"{server.url}/{made.json()['code']}", allow_redirects=False)
    assert follow.headers["Location"] == stored and "Set-Cookie" not in follow.headers


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
    if server.other_key is None:
        pytest.skip("a second API key is needed: SHORTLINK_OTHER_API_KEY")
    other = requests.Session()
    other.headers["x-api-key"] = server.other_key
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


# Input that once reached a 5xx: each is bad input, so a 4xx problem naming the field.
@pytest.mark.parametrize("body, status, field", [
    ({"url": "http://[::1/x"}, 422, "url"),
    ({"url": "http://[::1]:99999/x"}, 422, "url"),
    ({"url": "https://example.com", "targets": {"ios": "http://[fe80::1/x"}}, 422, "targets.ios"),
    ({"url": "https://example.com", "title": "bad \ud800 text"}, 422, "title"),
    ({"url": "https://example.com", "tags": ["ok", "\udfff"]}, 422, "tags[1]"),
    ({"url": "https://example.com/\ud83d"}, 422, "url"),
    ({"url": "https://example.com", "expires_at": "9999-12-31T23:59:59-23:59"}, 422, "expires_at"),
    ({"url": "https://example.com", "valid_since": "2026-02-30T00:00:00Z"}, 422, "valid_since"),
    ({"url": "https://example.com", "password": "pass\udc00word"}, 422, "password"),
    ({"url": "https://example.com", "\ud800": 1}, 422, "body"),
])
def test_input_that_once_broke_the_server_is_a_4xx(server: Devserver, api: requests.Session, body: dict[str, object],
                                                   status: int, field: str) -> None:
    data = json.dumps(body).encode()  # json escapes lone surrogates as \udxxx, as an attacker would send them
    problem_of(api.post(server.url + LINKS, data=data, headers={"Content-Type": "application/json"}), status, field)


def test_a_batch_with_bad_items_answers_each_alone(server: Devserver, api: requests.Session) -> None:
    items = [{"url": "http://[::1/x"}, {"url": "https://example.com", "title": "\ud800"}, {"url": "https://example.com/ok"}]
    answer = api.post(server.url + LINKS + "/batch", data=json.dumps({"links": items}), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == [422, 422, 201]


@pytest.mark.parametrize("query, field", [
    ("to=0001-01-05", "to"),
    ("from=0001-01-01&to=0001-01-02", "from"),
    ("to=9999-12-31", "to"),
    ("from=2026-02-30", "from"),
    ("tz=Asia", "tz"),  # a directory of zones, not a zone
    ("tz=Asia/Shangai", "tz"),
    ("tz=../../etc/passwd", "tz"),
])
def test_stats_dates_out_of_range_are_422(server: Devserver, api: requests.Session, query: str, field: str) -> None:
    code = api.post(server.url + LINKS, json={"url": "https://example.com/dates"}).json()["code"]
    problem_of(api.get(f"{server.url}{LINKS}/{code}/stats?{query}"), 422, field)


@pytest.mark.parametrize("cursor", [
    "W" * 2 + "1s" * 3000,  # base64 of a deeply nested list
    __import__("base64").urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
    __import__("base64").urlsafe_b64encode(b'["a/b", "\\ud800"]').decode(),
])
def test_crafted_cursors_are_422(server: Devserver, api: requests.Session, cursor: str) -> None:
    problem_of(api.get(server.url + LINKS, params={"cursor": cursor}), 422, "cursor")


@pytest.mark.parametrize("url", ["http%3A%2F%2F%5B%3A%3A1%2Fa", "http%3A%2F%2F%5Bzz%5D%2Fa", "%ED%A0%80"])
def test_qr_of_a_broken_url_is_422(server: Devserver, url: str) -> None:
    problem_of(requests.get(f"{server.url}/qr?url={url}"), 422, "url")


# Our own short domains by other spellings of their address (the devserver's domain is 127.0.0.1:PORT).
@pytest.mark.devserver  # the loopback spellings are the devserver's own domain
@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1",
                                  "[::1]", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "localhost.", "LOCALHOST"])
def test_own_domains_by_another_spelling_are_refused(server: Devserver, api: requests.Session, host: str) -> None:
    problem_of(api.post(server.url + LINKS, json={"url": f"http://{host}:{server.port}/loop"}), 422, "url")
