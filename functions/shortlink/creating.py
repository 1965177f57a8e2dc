"""Creating links: apply every input rule, then one conditional PutItem per link."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, TypeVar

from . import fields
from .codes import new_code
from .errors import AliasTaken
from .link import Link
from .passwords import hash_password
from .settings import Settings
from .store import LinkStore

# A random 7-character code collides about once in 10^12 draws per existing link;
# a few retries make a failure practically impossible while bounding the work.
CODE_ATTEMPTS = 5

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class LinkRequest:
    """What a caller asked for, already type-checked by the handler."""

    url: str
    domain: str | None = None
    alias: str | None = None
    validity: str | None = None
    expires_at: str | None = None
    valid_since: str | None = None
    max_visits: int | None = None
    redirect_status: int = 302
    forward_query: bool = False
    title: str | None = None
    tags: list[str] = field(default_factory=list)
    password: str | None = None
    targets: dict[str, str | None] = field(default_factory=dict)


def timestamp(now: float) -> str:
    """Creation/update time: ISO 8601 UTC with milliseconds, so listings sort by it."""
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_link(request: LinkRequest, settings: Settings, owner: str | None, now: float) -> Link:
    """Check every field (reporting all bad ones together) and make the Link to store."""
    checks = fields.Checks()

    def optional(value: T | None, rule: Callable[[T], R]) -> R | None:
        return None if value is None else checks.run(lambda: rule(value))

    url = checks.run(lambda: fields.url(request.url, settings))
    domain = checks.run(lambda: fields.domain(request.domain, settings))
    alias = optional(request.alias, fields.alias)
    validity = request.validity if request.validity or request.expires_at else settings.default_validity
    expires_at = checks.run(lambda: fields.expiry(validity, request.expires_at, int(now)))
    since = optional(request.valid_since, fields.valid_since)
    fields.window(checks, since, expires_at)
    max_visits = optional(request.max_visits, fields.max_visits)
    redirect_status = checks.run(lambda: fields.redirect_status(request.redirect_status))
    title = checks.run(lambda: fields.title(request.title))
    tags = checks.run(lambda: fields.tags(request.tags))
    targets = checks.run(lambda: fields.targets(request.targets, settings))
    optional(request.password, fields.password)
    checks.raise_any()
    assert url and domain and redirect_status and tags is not None and targets is not None  # every rule passed
    stamp = timestamp(now)
    return Link(
        domain=domain,
        code=alias or new_code(),
        url=url,
        created_at=stamp,
        updated_at=stamp,
        owner=owner,
        expires_at=expires_at,
        valid_since=since,
        max_visits=max_visits,
        redirect_status=redirect_status,
        forward_query=request.forward_query,
        title=title,
        tags=tags,
        targets=targets,
    )


def create_link(store: LinkStore, link: Link, *, alias_given: bool, now: float, password: str | None = None) -> Link:
    """Store the link; a generated code that collides is drawn again, an alias is not."""
    attempts_left = CODE_ATTEMPTS
    while True:
        if password is not None:
            link.password_hash = hash_password(password, link.link_id)  # salted with the final code
        try:
            store.put_new(link, int(now))
            return link
        except AliasTaken:
            attempts_left -= 1
            if alias_given or not attempts_left:
                raise
            link.code = new_code()


def create_from_request(store: LinkStore, settings: Settings, request: LinkRequest, owner: str | None, now: float) -> Link:
    """Check and store one requested link (what every create route does)."""
    link = build_link(request, settings, owner, now)
    return create_link(store, link, alias_given=request.alias is not None, now=now, password=request.password)
