"""Every spelling of a JSON media type on every route that takes JSON, and numbers in queries too
long to convert: a 2xx or a 4xx problem, never a 5xx."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from support import Devserver, problem_of

# JSON by RFC 8259 and RFC 6839 (+json), in the case and parameter spellings clients send
JSON = ["application/json", "APPLICATION/JSON", "Application/Json", "application/merge-patch+json", "application/vnd.api+json",
        "application/problem+json", "application/json; charset=UTF-8", 'application/json ; charset="utf-8"',
        "application/json;charset=utf-8;q=1", "application/json\t"]
NOT_JSON = ["text/json", "application/jsonx", "application/json-seq!", "text/plain", "json", "", "*/*",
            "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"]

Request = Callable[[requests.Session, str, str], requests.Response]


def _route(method: str, path: str, body: Callable[[], str]) -> Request:
    def send(api: requests.Session, base: str, media_type: str) -> requests.Response:
        session = api if path != "/api/shorten" else requests.Session()  # no key: anyone may shorten
        while True:  # as a client does when the gateway throttles it (the anonymous create: 5 a second)
            answer = session.request(method, base + path.format(code=api.headers["x-made"]), data=body(),
                                     headers={"Content-Type": media_type})
            if answer.status_code != 429:
                return answer
            threading.Event().wait(float(answer.headers["Retry-After"]))
    return send


ROUTES = {
    "create": _route("POST", "/api/links", lambda: '{"url": "https://example.com/media"}'),
    "shorten": _route("POST", "/api/shorten", lambda: '{"url": "https://example.com/media"}'),
    "batch": _route("POST", "/api/links/batch", lambda: '{"links": [{"url": "https://example.com/media"}]}'),
    "patch": _route("PATCH", "/api/links/{code}", lambda: f'{{"title": "{uuid.uuid4().hex[:6]}"}}'),
}


@pytest.fixture()
def made(server: Devserver, api: requests.Session) -> requests.Session:
    answer = api.post(server.url + "/api/links", json={"url": "https://example.com/media"})
    assert answer.status_code == 201
    api.headers["x-made"] = answer.json()["code"]
    return api


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("media_type", JSON)
def test_any_spelling_of_json_is_json(server: Devserver, made: requests.Session, route: str, media_type: str) -> None:
    answer = ROUTES[route](made, server.url, media_type)
    assert answer.status_code in (200, 201), (answer.status_code, answer.text)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("media_type", NOT_JSON)
def test_other_media_types_are_415(server: Devserver, made: requests.Session, route: str, media_type: str) -> None:
    problem_of(ROUTES[route](made, server.url, media_type), 415)


def _integer_query_parameters(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, name) of every integer query parameter the API publishes."""
    found = []
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                kinds = {schema.get("type"), *(option.get("type") for option in schema.get("anyOf", []))}
                if parameter["in"] == "query" and "integer" in kinds:
                    found.append((path, parameter["name"]))
    return found


def test_numbers_too_long_to_convert_are_422(server: Devserver, made: requests.Session) -> None:
    digits = "9" * 4301  # one more than Python's int() converts
    published = _integer_query_parameters(made.get(server.url + "/api/openapi.json").json())
    assert published, "the API publishes integer query parameters"
    for path, name in published:
        target = path.replace("{code}", made.headers["x-made"]).replace("{domain}", server.domains[0])
        problem_of(made.get(server.url + target, params={name: digits}), 422, name)
    for size in (digits, "²", "-1", "1e3"):
        problem_of(requests.get(f"{server.url}/qr", params={"url": f"http://{server.domains[0]}/{made.headers['x-made']}",
                                                           "size": size, "format": "png"}), 422, "size")
