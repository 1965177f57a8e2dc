"""links/routing.py: each condition of a redirect rule, their order, and what a caller may give."""

from __future__ import annotations

from typing import Any

import pytest

from shortlink.errors import InvalidInput
from shortlink.links.routing import Visitor, check_rules, countries, destination_url, first_language

NOW = 1_797_000_000_000  # 2026-12-11T13:20:00Z, in milliseconds
WECHAT_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN")
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _checked(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return check_rules(rules, lambda field, url: url)


RULES = _checked([
    {"when": {"app": ["wechat"], "language": ["zh"]}, "url": "https://a.example/wechat-zh"},
    {"when": {"device": ["android"], "language": ["en"]}, "url": "https://a.example/android-en"},
    {"when": {"query": {"src": "poster"}}, "url": "https://a.example/poster"},
    {"when": {"country": ["US"]}, "url": "https://a.example/us"},
    {"when": {"between": {"from": "2026-12-12T00:00", "to": "2026-12-13T00:00", "time_zone": "Asia/Shanghai"}},
     "url": "https://a.example/double-12"},
])


def _visitor(agent: str = DESKTOP, language: str | None = "en-US", query: list[tuple[str, str]] | None = None,
             country: str | None = "DE", now: int = NOW) -> Visitor:
    return Visitor(agent, language, query or [], now, lambda: country)


@pytest.mark.parametrize("visitor, url", [
    (_visitor(WECHAT_IPHONE, "zh-CN,zh;q=0.9"), "https://a.example/wechat-zh"),
    (_visitor(ANDROID, "en-US,en;q=0.9"), "https://a.example/android-en"),
    (_visitor(query=[("src", "poster")]), "https://a.example/poster"),
    (_visitor(country="US"), "https://a.example/us"),
    (_visitor(WECHAT_IPHONE, "en-GB", country="US"), "https://a.example/us"),  # WeChat, but not in Chinese
    (_visitor(ANDROID, "en", query=[("src", "poster")], country="US"), "https://a.example/android-en"),  # the first wins
    (_visitor(now=1_797_004_800_000), "https://a.example/double-12"),  # 2026-12-12T00:00+08:00: the window opens
    (_visitor(now=1_797_091_200_000), "https://a.example/default"),  # 2026-12-13T00:00+08:00: it has closed
    (_visitor(query=[("src", "flyer")]), "https://a.example/default"),
])
def test_the_first_rule_that_holds_decides(visitor: Visitor, url: str) -> None:
    assert destination_url("https://a.example/default", RULES, {}, visitor) == url


def test_targets_are_device_rules_checked_after_the_rules() -> None:
    targets = {"ios": "https://a.example/ios", "desktop": "https://a.example/desktop"}
    assert destination_url("https://a.example/", RULES, targets, _visitor(WECHAT_IPHONE, "de")) == "https://a.example/ios"
    assert destination_url("https://a.example/", RULES, targets, _visitor(DESKTOP, "de")) == "https://a.example/desktop"
    assert destination_url("https://a.example/", RULES, targets, _visitor(ANDROID, "de")) == "https://a.example/"


def test_the_country_is_looked_up_only_when_a_rule_asks() -> None:
    asked: list[bool] = []
    visitor = Visitor(DESKTOP, "en", [], NOW, lambda: asked.append(True) or "US")
    destination_url("https://a.example/", RULES[:3], {}, visitor)
    assert asked == []
    assert destination_url("https://a.example/", RULES, {}, visitor) == "https://a.example/us" and asked == [True]


@pytest.mark.parametrize("header, language", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-cn"), ("en;q=0.5, zh-TW", "zh-tw"), ("*", None), (None, None), ("fr;q=abc, de", "de"),
])
def test_the_first_choice_of_accept_language(header: str | None, language: str | None) -> None:
    assert first_language(header) == language


@pytest.mark.parametrize("rules, fields", [
    ([{"when": {}, "url": "https://x.example/"}], ["rules[0].when"]),
    ([{"when": {"country": ["UK"]}, "url": "https://x.example/"}, {"when": {"country": ["CN", "XX"]}, "url": "https://x.example/"}],
     ["rules[0].when.country", "rules[1].when.country"]),  # GB is the United Kingdom's; XX is no country
    ([{"when": {"planet": ["mars"]}, "url": "https://x.example/"}], ["rules[0].when.planet"]),
    ([{"when": {"country": ["China"], "device": ["toaster"]}, "url": "https://x.example/"}],
     ["rules[0].when.country", "rules[0].when.device"]),
    ([{"when": {"app": ["wechat"]}}], ["rules[0]"]),
    ([{"when": {"between": {"from": "2026-12-12T00:00", "to": "2026-12-13T00:00"}}, "url": "https://x.example/"}],
     ["rules[0].when.between.from"]),  # local times need a time zone
    ([{"when": {"between": {"from": "2026-12-13T00:00Z", "to": "2026-12-12T00:00Z"}}, "url": "https://x.example/"}],
     ["rules[0].when.between.to"]),
    ([{"when": {"between": {"from": "2026-12-12T00:00", "to": "2026-12-13T00:00", "time_zone": "Mars/Base"}},
       "url": "https://x.example/"}], ["rules[0].when.between.time_zone"]),
    ([{"when": {"between": {"from": "2026-12-12T00:00", "to": "2026-12-13T00:00", "time_zone": "Asia"}},
       "url": "https://x.example/"}], ["rules[0].when.between.time_zone"]),  # a directory of zones, no zone
    ([{"when": {"query": {"src": 1}}, "url": "https://x.example/"}], ["rules[0].when.query"]),
    ([{"when": {"language": ["zh_CN!"]}, "url": "https://x.example/"}, {"when": {"app": ["myspace"]}, "url": "https://x.example/"}],
     ["rules[0].when.language", "rules[1].when.app"]),
    ([{"when": {"device": ["ios"]}, "url": "https://x.example/"}] * 21, ["rules"]),
])
def test_every_bad_part_of_the_rules_is_named(rules: list[dict[str, Any]], fields: list[str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        _checked(rules)
    assert [error.field for error in refused.value.errors] == fields


def test_values_are_folded_as_they_are_compared() -> None:
    [rule] = _checked([{"when": {"country": ["cn", "CN"], "language": ["zh_TW"], "app": ["WeChat"]}, "url": "https://x.example/"}])
    assert rule["when"] == {"country": ["CN"], "language": ["zh-tw"], "app": ["wechat"]}


def test_a_rule_may_name_every_country_the_ip_table_gives() -> None:
    """Two lists nobody here wrote agree: each code of DB-IP's table is one a rule accepts."""
    from shortlink.stats.countries import COUNTRIES

    given = COUNTRIES.codes()
    assert len(given) > 240 and given == countries()
    assert _checked([{"when": {"country": ["gb", "xk", "cn"]}, "url": "https://x.example/"}])[0]["when"]["country"] == ["GB", "XK", "CN"]
