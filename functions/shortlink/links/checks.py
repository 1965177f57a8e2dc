"""The rules for each field of a link, shared by create, batch and PATCH.

Every rule has one shape, `rule(value, context) -> stored value`, and raises InvalidInput
naming its field; `Checks` runs many and keeps every failure, so one answer names all
bad fields. The limits stand beside the rule that enforces them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from ..errors import FieldError, InvalidInput
from ..settings import Settings
from .codes import check_alias
from .identity import LinkId
from .limits import MAX_VISITS, PASSWORD, PREVIEW_DESCRIPTION, PREVIEW_TITLE, TAGS, TITLE
from .passwords import hash_password
from .routing import check_rules
from .urls import normalize_url
from .validity import expiry_from_timestamp, expiry_from_validity, parse_moment

REDIRECT_STATUSES = (301, 302, 307, 308)
TARGET_KINDS = ("ios", "android", "desktop")
IN_APP = ("redirect", "guide")
PREVIEW_FIELDS = ("title", "description", "image")
PREVIEW_TEXTS = {"title": PREVIEW_TITLE, "description": PREVIEW_DESCRIPTION}

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """What rules may depend on: the stack's settings, the time, and the link being written."""

    settings: Settings
    now: int
    link_id: LinkId


Rule = Callable[[Any, Context], Any]


class Checks:
    """Runs field rules and keeps every failure, so one answer names all bad fields."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def run(self, rule: Callable[[], T]) -> T | None:
        try:
            return rule()
        except InvalidInput as exc:
            self.errors.extend(exc.errors)
            return None

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


def unreadable_text(value: Any, field: str) -> str | None:
    """The field (with its [index] or .key) of the first string in `value` that is not valid
    Unicode text: JSON can carry lone surrogates (\\ud800), which no store or page can hold."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return field
        return None
    if isinstance(value, list):
        return next((bad for i, item in enumerate(value) if (bad := unreadable_text(item, f"{field}[{i}]"))), None)
    if isinstance(value, dict):
        return next((bad for key, item in value.items()
                     if (bad := unreadable_text(key, field) or unreadable_text(item, f"{field}.{key}"))), None)
    return None


def readable(checks: Checks, given: dict[str, Any]) -> dict[str, Any]:
    """The given fields that are valid text throughout; each other one is reported and left out."""
    kept = {}
    for name, value in given.items():
        bad = unreadable_text(value, name)
        if bad is None:
            kept[name] = value
        else:
            checks.fail(bad, "must be valid Unicode text")
    return kept


def _url_as(field: str, value: str, settings: Settings) -> str:
    try:
        return normalize_url(value, settings.own_hosts, settings.blocked_hosts)
    except InvalidInput as exc:
        raise InvalidInput([FieldError(field, e.message) for e in exc.errors]) from None


def url(value: str, context: Context) -> str:
    return _url_as("url", value, context.settings)


def domain(value: str | None, settings: Settings) -> str:
    if value is None:
        return settings.default_domain
    name = value.strip().lower()
    if name not in settings.short_domains:
        raise InvalidInput.single("domain", f"must be one of {', '.join(settings.short_domains)}")
    return name


def alias(value: str) -> str:
    return check_alias(value)


def expiry(validity: str | None, expires_at: str | None, now: int) -> int | None:
    """The expiry (a moment) or None (permanent) from exactly one of validity / expires_at."""
    if validity is not None and expires_at is not None:
        raise InvalidInput.single("expires_at", "give either validity or expires_at, not both")
    if expires_at is not None:
        return expiry_from_timestamp(expires_at, now)
    assert validity is not None
    return expiry_from_validity(validity, now)


def expires_at(value: str, context: Context) -> int:
    return expiry_from_timestamp(value, context.now)


def valid_since(value: str, context: Context) -> int:
    return parse_moment("valid_since", value)


def title(value: str, context: Context) -> str | None:
    TITLE.check("title", value)
    return value.strip() or None


def tags(values: list[str], context: Context) -> list[str]:
    cleaned = [t.strip() for t in values]
    TAGS.check("tags", cleaned)
    return list(dict.fromkeys(cleaned))


def max_visits(value: int, context: Context) -> int:
    MAX_VISITS.check("max_visits", value)
    return value


def redirect_status(value: int, context: Context) -> int:
    if value not in REDIRECT_STATUSES:
        raise InvalidInput.single("redirect_status", f"must be one of {', '.join(map(str, REDIRECT_STATUSES))}")
    return value


def targets(values: dict[str, str | None], context: Context) -> dict[str, str]:
    """Per-platform URLs under the same rules as url; a null entry is no target."""
    checks = Checks()
    checked: dict[str, str] = {}
    for kind, target in values.items():
        if kind not in TARGET_KINDS:
            checks.fail(f"targets.{kind}", f"unknown platform; use {', '.join(TARGET_KINDS)}")
        elif target is not None:
            url = checks.run(partial(_url_as, f"targets.{kind}", target, context.settings))
            if url is not None:
                checked[kind] = url
    checks.raise_any()
    return checked


def redirect_rules(values: list[Any], context: Context) -> list[dict[str, Any]]:
    """Ordered redirect rules (links/routing.py), each URL under the same rules as url."""
    return check_rules(values, lambda field, target: _url_as(field, target, context.settings))


def preview(value: dict[str, Any], context: Context) -> dict[str, str]:
    """What link-preview fetchers are shown: a title, a description and an image URL."""
    checks = Checks()
    kept: dict[str, Any] = {}
    for name, text in value.items():
        field = f"preview.{name}"
        if name not in PREVIEW_FIELDS:
            checks.fail(field, f"unknown; use {', '.join(PREVIEW_FIELDS)}")
        elif text is not None and not isinstance(text, str):
            checks.fail(field, "must be a string")
        elif text and text.strip():
            if name == "image":
                kept[name] = checks.run(partial(_url_as, field, text.strip(), context.settings))
            else:
                checks.run(partial(PREVIEW_TEXTS[name].check, field, text.strip()))
                kept[name] = text.strip()
    if "title" not in kept:
        checks.fail("preview.title", "give the title the preview shows")
    checks.raise_any()
    return kept


def in_app(value: str, context: Context) -> str:
    if value not in IN_APP:
        raise InvalidInput.single("in_app", f"must be one of {', '.join(IN_APP)}")
    return value


def password(value: str, context: Context) -> str:
    """The stored form of a password: its hash, salted with the link's id."""
    PASSWORD.check("password", value)
    return hash_password(value, context.link_id)


def window(checks: Checks, since: int | None, until: int | None) -> None:
    if since is not None and until is not None and since >= until:
        checks.fail("valid_since", "must be before the expiry")
