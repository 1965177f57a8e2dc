"""links/follow.py: why a visit is refused, where it goes, how long it may be cached."""

from __future__ import annotations

import pytest

from shortlink.clock import SECOND
from shortlink.errors import LinkGone, LinkNotFound, NoPasswordToEnter, PasswordRequired, ShortLinkError, StoreUnavailable
from shortlink.links.follow import destination, redirect_cache_control, refusal, visit_facts
from shortlink.links.routing import Visitor
from support import new_link

NOW = 1_790_000_000_000  # 2026-09-21T14:13:20Z, in milliseconds
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50"


@pytest.mark.parametrize("fields, cache", [
    ({}, "private, max-age=60"),
    ({"expires_at": NOW + 5 * SECOND}, "private, max-age=5"),
    ({"expires_at": NOW + 999}, "no-store"),  # less than a second left: not worth caching
    ({"expires_at": NOW}, "no-store"),
    ({"max_visits": 3}, "no-store"),
    ({"password_hash": "scrypt$x"}, "no-store"),
])
def test_redirect_cache_never_outlives_the_link_or_skips_its_rules(fields: dict[str, int | str], cache: str) -> None:
    assert redirect_cache_control(new_link(**fields), NOW) == cache


@pytest.mark.parametrize("fields, password_given, refused", [
    ({"valid_since": NOW + 5 * SECOND}, False, LinkNotFound),
    ({"max_visits": 2, "visits": 2}, False, LinkGone),
    ({"disabled": True}, False, LinkGone),
    ({"expires_at": NOW}, False, LinkGone),
    ({"password_hash": "scrypt$x"}, False, PasswordRequired),
    ({"password_hash": "scrypt$x"}, True, PasswordRequired),
    ({}, False, StoreUnavailable),  # refused although followable: it changed meanwhile, never a 404
    ({}, True, NoPasswordToEnter),
])
def test_refusals_say_why_and_never_hide_a_race_as_404(fields: dict[str, int | str | bool], password_given: bool,
                                                      refused: type[ShortLinkError]) -> None:
    error = refusal(new_link(**fields), NOW, password_given=password_given)
    assert type(error) is refused


def test_refusal_details() -> None:
    gone = refusal(new_link(max_visits=2, visits=2), NOW, password_given=False)
    assert isinstance(gone, LinkGone) and gone.state == "exhausted" and gone.status == 410
    assert NoPasswordToEnter.status == 405 and NoPasswordToEnter.headers == {"Allow": "GET, HEAD"}


@pytest.mark.parametrize("query, location", [
    ([], "https://example.com/d?a=1"),
    ([("utm_source", "wechat")], "https://example.com/d?a=1&utm_source=wechat"),
])
def test_destination_forwards_the_query_only_when_asked(query: list[tuple[str, str]], location: str) -> None:
    visitor = Visitor(None, None, query, NOW)
    assert destination(new_link(url="https://example.com/d?a=1", forward_query=True), visitor) == location
    assert destination(new_link(url="https://example.com/d?a=1"), visitor) == "https://example.com/d?a=1"


def test_visit_facts_carry_platform_app_and_referrer_host() -> None:
    facts = visit_facts(IPHONE, "https://Weibo.com/post/1", "r1", NOW)
    assert facts == {"id": "r1", "at": NOW // SECOND, "platform": "ios", "bot": False, "app": "wechat", "referrer": "weibo.com",
                     "ua": IPHONE}  # the statistics parse browser, OS and device from it, off the hot path
    assert len(visit_facts("x" * 5000, None, "r5", NOW)["ua"]) == 512
    assert visit_facts(None, "not a url", "r2", NOW)["platform"] == "other"
    assert visit_facts(None, None, "r3", NOW, "jp")["country"] == "JP"
    assert all("country" not in visit_facts(None, None, "r4", NOW, bad) for bad in ("X1", "CHN", "", "中国"))
