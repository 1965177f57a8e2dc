"""Following a short link: which link a request names, and how the answer may be cached."""

from __future__ import annotations

from .codes import looks_like_code
from .errors import LinkNotFound
from .link import Link
from .settings import Settings, domain_for_host
from .store import LinkStore

# Browsers and proxies may reuse a redirect this long, but never past the link's
# expiry: a visit served from a cache is also a visit the statistics never see.
MAX_REDIRECT_CACHE_SECONDS = 60


def follow(store: LinkStore, settings: Settings, host: str | None, code: str, now: int, *, count: bool) -> Link:
    """The live link for host/code; counts a visit when count is true (GET), not for HEAD."""
    domain = domain_for_host(settings, host)
    if not looks_like_code(code):
        raise LinkNotFound(f"no link {domain}/{code}")
    if count:
        return store.visit(domain, code, now)
    return store.peek(domain, code, now)


def redirect_cache_control(link: Link, now: int) -> str:
    seconds = MAX_REDIRECT_CACHE_SECONDS
    if link.expires_at is not None:
        seconds = min(seconds, max(0, link.expires_at - now))
    return f"private, max-age={seconds}" if seconds else "no-store"
