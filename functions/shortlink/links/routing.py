"""Where a visit goes: a link's rules, in order, the first whose conditions all hold; else its url.

A rule is `{"when": {...}, "url": ...}`. Its conditions, each a list of accepted values unless said:
country (ISO 3166 codes), language (tags from Accept-Language, by prefix: zh takes zh-CN),
device (ios, android, mobile, desktop, windows, macos, linux), app (in-app browsers: wechat, qq,
...), query (`{"name": "value"}`: every pair in the short URL's query) and between (a window of
time: `{"from", "to"}`, ISO 8601 with an offset, or local times with `time_zone`).

The per-platform `targets` are a shorthand for rules on device, checked after `rules`: one
mechanism decides. Rules are checked against the link's copy (no request of their own); a
visitor's country is looked up only when a rule asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property
from importlib.resources import files
from typing import Any

from ..clock import SECOND, iso, zone_named
from ..errors import FieldError, InvalidInput
from .limits import CONDITION, QUERY_NAME, QUERY_VALUE, RULES, URL
from .useragent import APPS, in_app, platform

DEVICES = ("ios", "android", "mobile", "desktop", "windows", "macos", "linux")
CONDITIONS = ("country", "language", "device", "app", "query", "between")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")  # a BCP 47 tag, folded to lower case


@dataclass
class Visitor:
    """What the rules may ask of one visit. `country_of` is called at most once, and only when a
    rule names countries (it may read the IP-to-country table)."""

    user_agent: str | None
    accept_language: str | None
    query: list[tuple[str, str]]
    now: int
    country_of: Callable[[], str | None] = field(default=lambda: None)

    @cached_property
    def country(self) -> str | None:
        return self.country_of()

    @cached_property
    def language(self) -> str | None:
        return first_language(self.accept_language)

    @cached_property
    def devices(self) -> frozenset[str]:
        kind = platform(self.user_agent)
        return frozenset({kind, "mobile" if kind in ("ios", "android") else "desktop"})


def first_language(header: str | None) -> str | None:
    """The visitor's first choice in Accept-Language (highest q, first among equals), lower case."""
    best, best_q = None, 0.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        tag = tag.strip().lower().replace("_", "-")
        if tag and tag != "*" and q > best_q:
            best, best_q = tag, q
    return best


def holds(when: dict[str, Any], visitor: Visitor) -> bool:
    """Whether every condition of a stored rule holds for this visitor (the cheap ones first)."""
    between = when.get("between")
    if between is not None and not between["from"] <= visitor.now // SECOND < between["to"]:
        return False
    if "device" in when and not visitor.devices.intersection(when["device"]):
        return False
    if "app" in when and in_app(visitor.user_agent) not in when["app"]:
        return False
    if "query" in when and not all((name, value) in visitor.query for name, value in when["query"].items()):
        return False
    if "language" in when:
        language = visitor.language or ""
        if not any(language == tag or language.startswith(tag + "-") for tag in when["language"]):
            return False
    return "country" not in when or visitor.country in when["country"]


def destination_url(url: str, rules: list[dict[str, Any]], targets: dict[str, str], visitor: Visitor) -> str:
    """The URL of the first rule that holds (rules, then targets as device rules), else `url`."""
    for rule in rules:
        if holds(rule["when"], visitor):
            return str(rule["url"])
    for kind in ("ios", "android", "desktop"):
        if kind in targets and kind in visitor.devices:
            return targets[kind]
    return url


def has_window(rules: list[dict[str, Any]]) -> bool:
    return any("between" in rule["when"] for rule in rules)


def json_schema() -> dict[str, Any]:
    """The rules' JSON Schema as the OpenAPI document publishes it (the checks below enforce it)."""
    values = {"type": "array", "minItems": 1, "items": {"type": "string"}, **CONDITION.schema()}
    when = {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
        "country": {**values, "description": "ISO 3166 codes (CN, US); from CloudFront-Viewer-Country or the IP-to-country table"},
        "language": {**values, "description": "Accept-Language's first choice, by prefix: zh takes zh-CN and zh-TW"},
        "device": {**values, "items": {"enum": list(DEVICES)}},
        "app": {**values, "items": {"enum": list(APPS)}, "description": "The in-app browser"},
        "query": {"type": "object", "additionalProperties": {"type": "string", **QUERY_VALUE.schema()}, "minProperties": 1,
                  "maxProperties": CONDITION.max_items, "description": "Every name=value pair is in the short URL's query"},
        "between": {"type": "object", "required": ["from", "to"], "additionalProperties": False, "properties": {
            "from": {"type": "string"}, "to": {"type": "string"}, "time_zone": {"type": "string", "examples": ["Asia/Shanghai"]}},
            "description": "from <= now < to: ISO 8601 times with an offset, or local times in time_zone"},
    }}
    rule = {"type": "object", "required": ["when", "url"], "additionalProperties": False,
            "properties": {"when": when, "url": {"type": "string", **URL.schema()}}}
    return {"type": "array", "items": rule, **RULES.schema()}


# Checking what callers give ---------------------------------------------------------------

def check_rules(values: list[Any], url_rule: Callable[[str, str], str]) -> list[dict[str, Any]]:
    """The stored rules from what a caller gave, every bad part named (`rules[2].when.country`);
    `url_rule(field, url)` is the link's URL rule."""
    RULES.check("rules", values)
    errors: list[FieldError] = []
    stored = []
    for i, rule in enumerate(values):
        where = f"rules[{i}]"
        if not isinstance(rule, dict) or set(rule) - {"when", "url"} or not isinstance(rule.get("when"), dict) \
                or not isinstance(rule.get("url"), str):
            errors.append(FieldError(where, "must be an object with `when` (an object) and `url` (a string)"))
            continue
        when = _check_when(rule["when"], f"{where}.when", errors)
        try:
            target = url_rule(f"{where}.url", rule["url"])
        except InvalidInput as exc:
            errors.extend(exc.errors)
            continue
        if when is not None:
            stored.append({"when": when, "url": target})
    if errors:
        raise InvalidInput(errors)
    return stored


def _check_when(when: dict[str, Any], where: str, errors: list[FieldError]) -> dict[str, Any] | None:
    unknown = sorted(set(when) - set(CONDITIONS))
    if unknown:
        errors.append(FieldError(f"{where}.{unknown[0]}", f"unknown condition; use {', '.join(CONDITIONS)}"))
        return None
    if not when:
        errors.append(FieldError(where, "give at least one condition"))
        return None
    checked: dict[str, Any] = {}
    before = len(errors)
    for name, value in when.items():
        try:
            checked[name] = _CHECKS[name](value, f"{where}.{name}")
        except InvalidInput as exc:
            errors.extend(exc.errors)
    return checked if len(errors) == before else None


def _values(value: Any, where: str, fold: Callable[[str], str], valid: Callable[[str], bool], says: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidInput.single(where, "must be a non-empty list of strings")
    CONDITION.check(where, value)
    folded = [fold(v.strip()) for v in value]
    bad = next((v for v in folded if not valid(v)), None)
    if bad is not None:
        raise InvalidInput.single(where, f"{bad!r}: {says}")
    return list(dict.fromkeys(folded))


def _query(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value or not all(isinstance(v, str) for v in value.values()):
        raise InvalidInput.single(where, 'must be an object of names and values, such as {"src": "poster"}')
    CONDITION.check(where, list(value))
    for name, text in value.items():
        QUERY_NAME.check(f"{where}.{name}", name)
        QUERY_VALUE.check(f"{where}.{name}", text)
    return dict(value)


def _between(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict) or set(value) - {"from", "to", "time_zone"} or not {"from", "to"} <= set(value):
        raise InvalidInput.single(where, "must be {from, to} (ISO 8601 times) with an optional time_zone")
    zone = None
    if "time_zone" in value:
        zone = zone_named(str(value["time_zone"]))
        if zone is None:
            raise InvalidInput.single(f"{where}.time_zone", "must be an IANA time zone, such as Asia/Shanghai")
    moments = {}
    for end in ("from", "to"):
        try:
            moment = datetime.fromisoformat(str(value[end]))
        except ValueError:
            raise InvalidInput.single(f"{where}.{end}", "must be an ISO 8601 time, such as 2026-12-12T20:00") from None
        if moment.tzinfo is None:
            if zone is None:
                raise InvalidInput.single(f"{where}.{end}", "give its UTC offset (+08:00) or the window's time_zone")
            moment = moment.replace(tzinfo=zone)
        moments[end] = int(moment.timestamp())
    if moments["from"] >= moments["to"]:
        raise InvalidInput.single(f"{where}.to", "must be after from")
    return moments


@cache
def countries() -> frozenset[str]:
    """The ISO 3166 codes a rule may name: the tz database's list (tzdata's iso3166.tab; a rule
    naming "UK" would never match: GB is the code), and XK, Kosovo's code in common use, which
    the IP-to-country table gives. Read when a rule is checked, never by the redirect."""
    listed = files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    return frozenset({line.split("\t", 1)[0] for line in listed.splitlines() if line and not line.startswith("#")} | {"XK"})


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "country": lambda v, where: _values(v, where, str.upper, lambda c: c in countries(),
                                        "an ISO 3166 country code, such as CN (GB for the United Kingdom)"),
    "language": lambda v, where: _values(v, where, lambda t: t.lower().replace("_", "-"), lambda t: bool(_LANGUAGE.fullmatch(t)),
                                         "a language tag, such as zh or zh-TW"),
    "device": lambda v, where: _values(v, where, str.lower, DEVICES.__contains__, f"use {', '.join(DEVICES)}"),
    "app": lambda v, where: _values(v, where, str.lower, APPS.__contains__, f"use {', '.join(APPS)}"),
    "query": _query,
    "between": _between,
}


def shown(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules as the link body shows them: a window's ends as ISO 8601 UTC times."""

    def show(when: dict[str, Any]) -> dict[str, Any]:
        if "between" not in when:
            return dict(when)
        between = when["between"]
        return {**when, "between": {"from": iso(between["from"] * SECOND), "to": iso(between["to"] * SECOND)}}

    return [{"when": show(rule["when"]), "url": rule["url"]} for rule in rules]
