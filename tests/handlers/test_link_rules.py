"""The link's rules, enforced by the redirect's single conditional UpdateItem."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from support import FakeClock, Invoke, MakeEvent, dynamodb_requests, headers_of, make_link, stored_item, visits_of
from shortlink.dynamodb import dynamodb_client

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _make(invoke: Invoke, make_event: MakeEvent, **fields: Any) -> str:
    return str(make_link(invoke, make_event, **fields)["code"])


def _follow(invoke: Invoke, make_event: MakeEvent, path: str, **kwargs: Any) -> dict[str, Any]:
    with dynamodb_requests(dynamodb_client()) as sent:
        answer = invoke(make_event("GET", path, **kwargs))
    assert sent == ["UpdateItem"], "a redirect makes exactly one DynamoDB request"
    return answer


def test_max_visits_counts_to_the_limit_then_410(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = _make(invoke, make_event, max_visits=3)
    statuses = [_follow(invoke, make_event, f"/{code}")["statusCode"] for _ in range(5)]
    assert statuses == [302, 302, 302, 410, 410]
    assert visits_of(dynamodb, code) == 3
    body = json.loads(_follow(invoke, make_event, f"/{code}")["body"])
    assert body["title"] == "Visit limit reached"


def test_valid_since_is_404_before_and_302_after(invoke: Invoke, make_event: MakeEvent, clock: FakeClock) -> None:
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock() + 3600))
    code = _make(invoke, make_event, valid_since=later)
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 404
    clock.advance(3600)
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 302
    other = _make(invoke, make_event, valid_since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock() + 60)))
    assert _follow(invoke, make_event, f"/{other}")["statusCode"] == 404
    invoke(make_event("PATCH", f"/api/links/{other}", {"valid_since": None}))
    assert _follow(invoke, make_event, f"/{other}")["statusCode"] == 302


def test_disabled_is_410_and_enabling_restores(invoke: Invoke, make_event: MakeEvent, dynamodb: Any) -> None:
    code = _make(invoke, make_event)
    invoke(make_event("PATCH", f"/api/links/{code}", {"disabled": True}))
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 410
    invoke(make_event("PATCH", f"/api/links/{code}", {"disabled": False}))
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 302
    assert visits_of(dynamodb, code) == 1


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


def test_password_form_then_post_then_redirect(invoke: Invoke, make_event: MakeEvent, dynamodb: Any, clock: FakeClock,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    secret = "correct horse " + uuid.uuid4().hex[:6]
    code = _make(invoke, make_event, password=secret)
    stored = stored_item(dynamodb, code)
    assert stored["password_hash"]["S"].startswith("scrypt$") and secret not in json.dumps(stored)

    form = _follow(invoke, make_event, f"/{code}", headers={"Accept": "text/html,application/xhtml+xml"})
    assert form["statusCode"] == 401 and headers_of(form)["Content-Type"].startswith("text/html")
    assert '<form method="post"' in form["body"] and 'name="password"' in form["body"]
    api = _follow(invoke, make_event, f"/{code}")
    assert api["statusCode"] == 401 and headers_of(api)["Content-Type"] == "application/problem+json"

    wrong = invoke(make_event("POST", f"/{code}", raw_body=b"password=nope", headers={**FORM, "Accept": "text/html"}))
    assert wrong["statusCode"] == 401 and "not right" in wrong["body"] and "<form" in wrong["body"]
    throttled = invoke(make_event("POST", f"/{code}", raw_body=f"password={secret}".encode(), headers=FORM))
    assert throttled["statusCode"] == 429 and int(headers_of(throttled)["Retry-After"]) >= 1
    clock.advance(1)
    opened = invoke(make_event("POST", f"/{code}", raw_body=f"password={secret.replace(' ', '+')}".encode(), headers=FORM))
    assert opened["statusCode"] == 303 and headers_of(opened)["Location"] == "https://example.com/dest?a=1"
    assert visits_of(dynamodb, code) == 1
    assert secret not in capsys.readouterr().out


def test_wrong_passwords_back_off_exponentially(invoke: Invoke, make_event: MakeEvent, dynamodb: Any, clock: FakeClock) -> None:
    code = _make(invoke, make_event, password="s3cret-pass")
    delays = []
    for _ in range(4):
        item = stored_item(dynamodb, code)
        assert item is not None
        clock.at = max(clock(), int(item.get("password_retry_at", {"N": "0"})["N"]))  # wait out the back-off
        answer = invoke(make_event("POST", f"/{code}", raw_body=b"password=guess", headers=FORM))
        assert answer["statusCode"] == 401
        item = stored_item(dynamodb, code)
        assert item is not None
        delays.append(int(item["password_retry_at"]["N"]) - int(clock()))
    assert delays == [1, 2, 4, 8]
