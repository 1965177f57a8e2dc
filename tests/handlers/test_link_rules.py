"""The link's rules, enforced by the redirect's single conditional UpdateItem."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable

import pytest

from support import dynamodb_requests, headers_of
from shortlink.store import dynamodb_client

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
MakeEvent = Callable[..., dict[str, Any]]
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _make(invoke: Invoke, make_event: MakeEvent, **fields: Any) -> str:
    alias = "rule-" + uuid.uuid4().hex[:10]
    answer = invoke(make_event("POST", "/api/links", {"url": "https://example.com/dest?a=1", "alias": alias, **fields}))
    assert answer["statusCode"] == 201, answer["body"]
    return alias


def _visits(dynamodb: Any, code: str) -> int:
    item = dynamodb.get_item(TableName="LinksTable", Key={"link_id": {"S": f"s.example.com/{code}"}}, ConsistentRead=True)["Item"]
    return int(item["visits"]["N"])


def _follow(invoke: Invoke, make_event: MakeEvent, path: str, **kwargs: Any) -> dict[str, Any]:
    with dynamodb_requests(dynamodb_client()) as sent:
        answer = invoke(make_event("GET", path, **kwargs))
    assert sent == ["UpdateItem"], "a redirect makes exactly one DynamoDB request"
    return answer


def test_max_visits_counts_to_the_limit_then_410(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = _make(invoke, make_event, max_visits=3)
    statuses = [_follow(invoke, make_event, f"/{code}")["statusCode"] for _ in range(5)]
    assert statuses == [302, 302, 302, 410, 410]
    assert _visits(dynamodb, code) == 3
    body = json.loads(_follow(invoke, make_event, f"/{code}")["body"])
    assert body["title"] == "Visit limit reached"


def test_valid_since_is_404_before_and_302_after(invoke: Invoke, make_event: MakeEvent) -> None:
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    code = _make(invoke, make_event, valid_since=later)
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 404
    invoke(make_event("PATCH", f"/api/links/{code}", {"valid_since": None}))
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 302


def test_disabled_is_410_and_enabling_restores(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = _make(invoke, make_event)
    invoke(make_event("PATCH", f"/api/links/{code}", {"disabled": True}))
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 410
    invoke(make_event("PATCH", f"/api/links/{code}", {"disabled": False}))
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 302
    assert _visits(dynamodb, code) == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_status_is_the_links_own(invoke: Invoke, make_event: MakeEvent, status: int) -> None:
    code = _make(invoke, make_event, redirect_status=status)
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == status


def test_forward_query_merges_the_visitors_query(invoke: Invoke, make_event: MakeEvent) -> None:
    code = _make(invoke, make_event, forward_query=True)
    answer = _follow(invoke, make_event, f"/{code}?utm_source=wechat&q=%E4%B8%AD")
    assert headers_of(answer)["Location"] == "https://example.com/dest?a=1&utm_source=wechat&q=%E4%B8%AD"
    plain = _make(invoke, make_event)
    assert headers_of(_follow(invoke, make_event, f"/{plain}?utm_source=x"))["Location"] == "https://example.com/dest?a=1"


def test_targets_follow_the_user_agent(invoke: Invoke, make_event: MakeEvent) -> None:
    code = _make(invoke, make_event, targets={"ios": "https://apps.apple.com/app/id1", "android": "https://play.google.com/store/apps/details?id=x"})
    where = {ua: headers_of(_follow(invoke, make_event, f"/{code}", headers={"User-Agent": ua}))["Location"]
             for ua in (IPHONE, ANDROID, DESKTOP)}
    assert where == {IPHONE: "https://apps.apple.com/app/id1",
                     ANDROID: "https://play.google.com/store/apps/details?id=x",
                     DESKTOP: "https://example.com/dest?a=1"}


def test_password_form_then_post_then_redirect(invoke: Invoke, make_event: MakeEvent, dynamodb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "correct horse " + uuid.uuid4().hex[:6]
    code = _make(invoke, make_event, password=secret)
    stored = dynamodb.get_item(TableName="LinksTable", Key={"link_id": {"S": f"s.example.com/{code}"}})["Item"]
    assert stored["password_hash"]["S"].startswith("scrypt$") and secret not in json.dumps(stored)

    form = _follow(invoke, make_event, f"/{code}", headers={"Accept": "text/html,application/xhtml+xml"})
    assert form["statusCode"] == 401 and headers_of(form)["Content-Type"].startswith("text/html")
    assert '<form method="post"' in form["body"] and 'name="password"' in form["body"]
    api = _follow(invoke, make_event, f"/{code}")
    assert api["statusCode"] == 401 and headers_of(api)["Content-Type"] == "application/problem+json"

    time.sleep(1.02 - time.time() % 1)  # start of a second: the next try lands before the 1 s back-off ends
    wrong = invoke(make_event("POST", f"/{code}", raw_body=b"password=nope", headers={**FORM, "Accept": "text/html"}))
    assert wrong["statusCode"] == 401 and "not right" in wrong["body"] and "<form" in wrong["body"]
    throttled = invoke(make_event("POST", f"/{code}", raw_body=f"password={secret}".encode(), headers=FORM))
    assert throttled["statusCode"] == 429 and int(headers_of(throttled)["Retry-After"]) >= 1
    time.sleep(1.1)
    opened = invoke(make_event("POST", f"/{code}", raw_body=f"password={secret.replace(' ', '+')}".encode(), headers=FORM))
    assert opened["statusCode"] == 303 and headers_of(opened)["Location"] == "https://example.com/dest?a=1"
    assert _visits(dynamodb, code) == 1
    assert secret not in capsys.readouterr().out


def test_wrong_passwords_back_off_exponentially(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = _make(invoke, make_event, password="s3cret-pass")
    delays = []
    for _ in range(3):
        item = dynamodb.get_item(TableName="LinksTable", Key={"link_id": {"S": f"s.example.com/{code}"}})["Item"]
        retry_at = int(item.get("password_retry_at", {"N": "0"})["N"])
        time.sleep(max(0.0, retry_at - time.time() + 0.05))
        answer = invoke(make_event("POST", f"/{code}", raw_body=b"password=guess", headers=FORM))
        assert answer["statusCode"] == 401
        item = dynamodb.get_item(TableName="LinksTable", Key={"link_id": {"S": f"s.example.com/{code}"}})["Item"]
        delays.append(int(item["password_retry_at"]["N"]) - int(time.time()))
    assert delays[0] <= 1 and delays[1] <= 2 and 3 <= delays[2] <= 4
