"""Creating links: apply every input rule, then one conditional PutItem per link."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, TypeVar

from .codes import check_alias, new_code
from .errors import AliasTaken, FieldError, InvalidInput
from .link import Link
from .settings import Settings
from .store import LinkStore
from .urls import normalize_url
from .validity import expiry_from_timestamp, expiry_from_validity

# A random 7-character code collides about once in 10^12 draws per existing link;
# a few retries make a failure practically impossible while bounding the work.
CODE_ATTEMPTS = 5
MAX_TITLE = 200
MAX_TAGS = 10
MAX_TAG = 50

T = TypeVar("T")


@dataclass
class LinkRequest:
    """What a caller asked for, already type-checked by the handler."""

    url: str
    domain: str | None = None
    alias: str | None = None
    validity: str | None = None
    expires_at: str | None = None
    title: str | None = None
    tags: list[str] = field(default_factory=list)


def timestamp(now: float) -> str:
    """Creation/update time: ISO 8601 UTC with milliseconds, so listings sort by it."""
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _check_tags(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise InvalidInput.single("tags", f"at most {MAX_TAGS} tags")
    cleaned = [t.strip() for t in tags]
    if any(not t or len(t) > MAX_TAG for t in cleaned):
        raise InvalidInput.single("tags", f"each tag must be 1 to {MAX_TAG} characters")
    return list(dict.fromkeys(cleaned))


def _check_title(title: str | None) -> str | None:
    if title is not None and len(title) > MAX_TITLE:
        raise InvalidInput.single("title", f"must be at most {MAX_TITLE} characters")
    if title is None:
        return None
    return title.strip() or None


def _check_domain(domain: str | None, settings: Settings) -> str:
    if domain is None:
        return settings.default_domain
    name = domain.strip().lower()
    if name not in settings.short_domains:
        raise InvalidInput.single("domain", f"must be one of {', '.join(settings.short_domains)}")
    return name


def _expiry(request: LinkRequest, settings: Settings, now: int) -> int | None:
    if request.validity is not None and request.expires_at is not None:
        raise InvalidInput.single("expires_at", "give either validity or expires_at, not both")
    if request.expires_at is not None:
        return expiry_from_timestamp(request.expires_at, now)
    return expiry_from_validity(request.validity or settings.default_validity, now)


def build_link(request: LinkRequest, settings: Settings, owner: str | None, now: float) -> Link:
    """Check every field (reporting all bad ones together) and make the Link to store."""
    errors: list[FieldError] = []

    def checked(rule: Callable[[], T]) -> T | None:
        try:
            return rule()
        except InvalidInput as exc:
            errors.extend(exc.errors)
            return None

    url = checked(lambda: normalize_url(request.url, settings.short_domains, settings.blocked_hosts))
    domain = checked(lambda: _check_domain(request.domain, settings))
    alias = checked(lambda: check_alias(request.alias)) if request.alias is not None else None
    expires_at = checked(lambda: _expiry(request, settings, int(now)))
    title = checked(lambda: _check_title(request.title))
    tags = checked(lambda: _check_tags(request.tags))
    if errors:
        raise InvalidInput(errors)
    assert url is not None and domain is not None  # no errors means every rule passed
    stamp = timestamp(now)
    return Link(
        domain=domain,
        code=alias or new_code(),
        url=url,
        created_at=stamp,
        updated_at=stamp,
        owner=owner,
        expires_at=expires_at,
        title=title,
        tags=tags or [],
    )


def create_link(store: LinkStore, link: Link, *, alias_given: bool, now: float) -> Link:
    """Store the link; a generated code that collides is drawn again, an alias is not."""
    attempts_left = CODE_ATTEMPTS
    while True:
        try:
            store.put_new(link, int(now))
            return link
        except AliasTaken:
            attempts_left -= 1
            if alias_given or not attempts_left:
                raise
            link.code = new_code()
