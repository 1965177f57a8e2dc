"""The link's rules: checked against the redirect's copy of the link (read at most once per
LINK_CACHE_SECONDS), and, for a visit limit or a password, by the conditional UpdateItem that
counts the visit."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from shortlink.dynamodb import client as dynamodb_client
from shortlink.links.proofs import BITS
from support import (
    LINK_CACHE_SECONDS,
    FakeClock,
    Invoke,
    MakeEvent,
    dynamodb_requests,
    headers_of,
    make_link,
    problem_of,
    solve_proof,
    stored_item,
    visits_of,
)

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _make(invoke: Invoke, make_event: MakeEvent, **fields: Any) -> str:
    return str(make_link(invoke, make_event, **fields)["code"])


def _follow(invoke: Invoke, make_event: MakeEvent, path: str, **kwargs: Any) -> dict[str, Any]:
    with dynamodb_requests(dynamodb_client()) as sent:
        answer = invoke(make_event("GET", path, **kwargs))
    assert sent in ([], ["GetItem"], ["UpdateItem"], ["GetItem", "UpdateItem"]), \
        "a redirect reads its link at most once (unless kept) and writes at most one visit"
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
    clock.advance(LINK_CACHE_SECONDS)  # the redirect's copy of the link is read again
    assert _follow(invoke, make_event, f"/{other}")["statusCode"] == 302


def test_disabled_is_410_and_enabling_restores(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                clock: FakeClock) -> None:
    code = _make(invoke, make_event)
    invoke(make_event("PATCH", f"/api/links/{code}", {"disabled": True}))
    assert _follow(invoke, make_event, f"/{code}")["statusCode"] == 410
    invoke(make_event("PATCH", f"/api/links/{code}", {"disabled": False}))
    clock.advance(LINK_CACHE_SECONDS)
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

    wrong = _guess(invoke, make_event, code, "nope", accept="text/html")
    assert wrong["statusCode"] == 401 and "not right" in wrong["body"] and "<form" in wrong["body"]
    throttled = _guess(invoke, make_event, code, secret, accept="text/html")
    assert throttled["statusCode"] == 429 and headers_of(throttled)["Retry-After"] == "1"
    assert "<form" in throttled["body"] and "Try again in 1 s" in throttled["body"]  # the form stays, with when
    clock.advance(1)
    opened = _guess(invoke, make_event, code, secret)
    assert opened["statusCode"] == 303 and headers_of(opened)["Location"] == "https://example.com/dest?a=1"
    assert visits_of(dynamodb, code) == 1
    assert secret not in capsys.readouterr().out


def _guess(invoke: Invoke, make_event: MakeEvent, code: str, password: str, *, source_ip: str = "198.51.100.1",
           accept: str = "application/json", proof: dict[str, str] | None = None) -> dict[str, Any]:
    """POST /{code} with a password form (and a proof of work), from `source_ip` as API Gateway reports it."""
    form = urlencode({"password": password, **(proof or {})}).encode()
    event = make_event("POST", f"/{code}", raw_body=form, headers={**FORM, "Accept": accept})
    event["requestContext"]["http"]["sourceIp"] = source_ip  # the HTTP API's event (PublicApi)
    return invoke(event)


def _guards(dynamodb: Any, code: str) -> dict[str, dict[str, Any]]:
    item = stored_item(dynamodb, code)
    assert item is not None
    return {name: value["M"] for name, value in item.items() if name.startswith("guard:")}


def test_wrong_passwords_back_off_exponentially_per_visitor(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                            clock: FakeClock) -> None:
    code = _make(invoke, make_event, password="s3cret-pass")
    delays = []
    for _ in range(5):
        assert _guess(invoke, make_event, code, "guess")["statusCode"] == 401
        [guard] = _guards(dynamodb, code).values()
        delays.append((int(guard["at"]["N"]) - int(clock() * 1000)) / 1000)  # kept in milliseconds
        clock.advance(delays[-1] - 0.001)  # a millisecond before the back-off ends
        assert _guess(invoke, make_event, code, "s3cret-pass")["statusCode"] == 429  # even the right one waits
        clock.at = int(guard["at"]["N"]) / 1000
    assert delays == [1, 2, 4, 8, 16]
    # another visitor is not kept out by this one's guesses, and a right password forgives only its own
    assert _guess(invoke, make_event, code, "s3cret-pass", source_ip="203.0.113.9")["statusCode"] == 303
    assert len(_guards(dynamodb, code)) == 1 and visits_of(dynamodb, code) == 1
    assert "198.51.100.1" not in json.dumps(stored_item(dynamodb, code))  # the address is never stored


def test_a_link_checks_at_most_twenty_guesses_a_minute_from_everyone(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                                     clock: FakeClock) -> None:
    code = _make(invoke, make_event, password="s3cret-pass")
    clock.at = (int(clock()) // 60) * 60  # the start of a minute
    answers = [_guess(invoke, make_event, code, f"guess-{i}", source_ip=f"203.0.113.{i}")["statusCode"] for i in range(25)]
    assert answers == [401] * 20 + [429] * 5
    rotated = problem_of(_guess(invoke, make_event, code, "s3cret-pass", source_ip="192.0.2.77"), 429)
    assert rotated["type"].endswith("/proof-required") and rotated["bits"] == BITS
    assert stored_item(dynamodb, code)["guess_count"] == {"N": "20"}  # refused unchecked: no guess spent
    clock.advance(60)
    assert _guess(invoke, make_event, code, "s3cret-pass", source_ip="192.0.2.77")["statusCode"] == 303
    # an hour after their back-off ended, old visitors are forgotten as others guess
    clock.advance(2 * 3600)
    assert _guess(invoke, make_event, code, "guess", source_ip="192.0.2.78")["statusCode"] == 401
    assert len(_guards(dynamodb, code)) == 1


def test_past_the_lane_a_guess_with_a_proof_of_work_is_checked_at_once(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                                        clock: FakeClock) -> None:
    code = _make(invoke, make_event, password="s3cret-pass")
    clock.at = (int(clock()) // 60) * 60
    for i in range(20):
        _guess(invoke, make_event, code, f"guess-{i}", source_ip=f"203.0.113.{i}")
    asked = problem_of(_guess(invoke, make_event, code, "s3cret-pass", source_ip="192.0.2.77"), 429)
    proof = {"challenge": asked["challenge"], "proof": solve_proof(asked["challenge"], asked["bits"])}
    # the proof is this visitor's: another address, or a forged challenge, gets nothing from it
    assert problem_of(_guess(invoke, make_event, code, "s3cret-pass", source_ip="192.0.2.78", proof=proof), 429)["challenge"]
    forged = {**proof, "challenge": asked["challenge"][:-1] + ("0" if asked["challenge"][-1] != "0" else "1")}
    assert _guess(invoke, make_event, code, "s3cret-pass", source_ip="192.0.2.77", proof=forged)["statusCode"] == 429
    opened = _guess(invoke, make_event, code, "s3cret-pass", source_ip="192.0.2.77", proof=proof)
    assert opened["statusCode"] == 303
    # a wrong guess with a proof is checked too, and its proof does not serve the next guess
    attacker = problem_of(_guess(invoke, make_event, code, "guess", source_ip="192.0.2.90"), 429)
    spent = {"challenge": attacker["challenge"], "proof": solve_proof(attacker["challenge"], attacker["bits"])}
    assert _guess(invoke, make_event, code, "guess", source_ip="192.0.2.90", proof=spent)["statusCode"] == 401
    clock.advance(1)  # past its back-off
    assert problem_of(_guess(invoke, make_event, code, "guess-2", source_ip="192.0.2.90", proof=spent), 429)["challenge"]


def test_the_page_asks_the_browser_for_the_proof(invoke: Invoke, make_event: MakeEvent, clock: FakeClock) -> None:
    code = _make(invoke, make_event, password="s3cret-pass")
    clock.at = (int(clock()) // 60) * 60
    for i in range(20):
        _guess(invoke, make_event, code, f"guess-{i}", source_ip=f"203.0.113.{i}")
    page = _guess(invoke, make_event, code, "s3cret-pass", source_ip="192.0.2.77", accept="text/html")
    assert page["statusCode"] == 429 and 'name="challenge"' in page["body"] and f'data-bits="{BITS}"' in page["body"]
    assert '<script src="static/unlock.js" defer></script>' in page["body"]
    assert "script-src 'self'" in headers_of(page)["Content-Security-Policy"]
    plain = _guess(invoke, make_event, _make(invoke, make_event, password="s3cret-pass"), "wrong", accept="text/html")
    assert "<script" not in plain["body"] and "script-src" not in headers_of(plain)["Content-Security-Policy"]


def test_a_right_password_gives_its_guess_back(invoke: Invoke, make_event: MakeEvent, dynamodb: Any, clock: FakeClock) -> None:
    """A crowd entering the right password is not stopped by the link's ceiling."""
    code = _make(invoke, make_event, password="s3cret-pass")
    clock.at = (int(clock()) // 60) * 60
    answers = [_guess(invoke, make_event, code, "s3cret-pass", source_ip=f"203.0.113.{i}")["statusCode"] for i in range(40)]
    assert answers == [303] * 40 and visits_of(dynamodb, code) == 40


def test_a_post_to_a_link_without_password_or_to_no_link_is_a_4xx_without_hashing(
        invoke: Invoke, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch) -> None:
    from shortlink.links import follow

    plain = _make(invoke, make_event)
    monkeypatch.setattr(follow, "hash_password", lambda *_: pytest.fail("a password was hashed"))
    with dynamodb_requests(dynamodb_client()) as sent:
        answer = _guess(invoke, make_event, plain, "anything")
    assert answer["statusCode"] == 405 and headers_of(answer)["Allow"] == "GET, HEAD" and sent == ["GetItem"]
    assert _guess(invoke, make_event, "nobody-made-this", "anything")["statusCode"] == 404
    assert _guess(invoke, make_event, "x", "anything")["statusCode"] == 404


@pytest.mark.parametrize("fields", [{"max_visits": 1}, {"password": "s3cret-pass"}])
def test_bots_and_head_use_up_no_visit_and_learn_no_destination(invoke: Invoke, make_event: MakeEvent, dynamodb: Any,
                                                                fields: dict[str, Any]) -> None:
    code = _make(invoke, make_event, **fields)
    bot = {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
    answers = [invoke(make_event("GET", f"/{code}", headers=bot)) for _ in range(5)]
    answers += [invoke(make_event("HEAD", f"/{code}")) for _ in range(5)]
    assert {a["statusCode"] for a in answers} == ({403} if "max_visits" in fields else {401})
    assert not any("Location" in headers_of(a) for a in answers)
    assert visits_of(dynamodb, code) == 0
    if "max_visits" in fields:
        assert json.loads(answers[0]["body"])["type"].endswith("/preview-withheld")
        assert invoke(make_event("GET", f"/{code}"))["statusCode"] == 302  # the one visit is still there
