"""Following a short link: which link a request names, whether its rules let this visit
through, where it goes (per-platform target, forwarded query) and how long it may be cached."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..errors import (
    LinkGone,
    LinkNotFound,
    PasswordRequired,
    ShortLinkError,
    StoreUnavailable,
    TooManyAttempts,
    WrongPassword,
)
from ..settings import Settings, domain_for_host
from .codes import looks_like_code
from .identity import LinkId
from .model import Link
from .passwords import hash_password, retry_delay
from .store import LinkStore, VisitRefused
from .useragent import in_app, is_bot, platform, target_kind

# Browsers and proxies may reuse a redirect this long, but never past the link's
# expiry: a visit served from a cache is also a visit the statistics never see.
MAX_REDIRECT_CACHE_SECONDS = 60


def refusal(link: Link, now: int, *, password_given: bool) -> ShortLinkError:
    """Why a stored link does not redirect this visit."""
    name = link.id
    state = link.state(now)
    if state == "scheduled":
        return LinkNotFound(f"no link {name}")  # not yet valid: as if it did not exist yet
    if state != "active":
        return LinkGone(f"{name} is {state}", state)
    if link.password_hash is None:
        # The condition refused an item that looks followable: it must have changed in between
        # (a PATCH). Retrying is right; a 404 would be a lie.
        return StoreUnavailable(f"{name} changed while it was being followed; retry")
    if link.password_retry_at is not None and link.password_retry_at > now:
        return TooManyAttempts("too many wrong passwords; wait before trying again", link.password_retry_at - now)
    if password_given:
        return WrongPassword("the password is not right")
    return PasswordRequired("this link is protected by a password")


def visit_facts(user_agent: str | None, referer: str | None, request_id: str, now: int) -> dict[str, Any]:
    """What the redirect records as last_visit: the stream hands it to the statistics."""
    facts: dict[str, Any] = {"id": request_id, "at": now, "platform": platform(user_agent), "bot": is_bot(user_agent)}
    app = in_app(user_agent)
    if app:
        facts["app"] = app
    try:
        host = urlsplit(referer).hostname if referer else None
    except ValueError:
        host = None
    if host:
        facts["referrer"] = host.lower()[:253]
    return facts


def follow(store: LinkStore, settings: Settings, host: str | None, code: str, now: int, *,
           facts: dict[str, Any] | None, password: str | None = None) -> Link:
    """The link host/code leads to. A GET records its visit facts in one UpdateItem (bots
    are recorded, not counted); HEAD (facts None) only reads."""
    link_id = LinkId(domain_for_host(settings, host), code)
    if not looks_like_code(code):
        raise LinkNotFound(f"no link {link_id}")
    if facts is None:
        link = store.get(link_id)
        if link.state(now) != "active" or link.password_hash is not None:
            raise refusal(link, now, password_given=False)
        return link
    candidate = hash_password(password, link_id) if password is not None else None
    try:
        return store.visit(link_id, now, facts, count=not facts["bot"], password_hash=candidate)
    except VisitRefused as refused:
        error = refusal(refused.link, now, password_given=password is not None)
        if isinstance(error, WrongPassword):
            store.note_password_failure(refused.link, now + retry_delay(refused.link.password_failures + 1))
        raise error from None


def destination(link: Link, user_agent: str | None, query: list[tuple[str, str]]) -> str:
    """The URL to send this visitor to: the platform's target if any, plus the forwarded query."""
    target = link.targets.get(target_kind(user_agent), link.url)
    if not (link.forward_query and query):
        return target
    parts = urlsplit(target)
    extra = urlencode(query)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def redirect_cache_control(link: Link, now: int) -> str:
    if link.password_hash is not None or link.max_visits is not None:
        return "no-store"  # every visit must reach the link's rules
    seconds = MAX_REDIRECT_CACHE_SECONDS
    if link.expires_at is not None:
        seconds = min(seconds, max(0, link.expires_at - now))
    return f"private, max-age={seconds}" if seconds else "no-store"
