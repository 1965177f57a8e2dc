"""The Link model and the JSON body the API returns for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .validity import iso


def link_id(domain: str, code: str) -> str:
    return f"{domain}/{code}"


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def short_url(domain: str, code: str) -> str:
    """https, except for a loopback short domain (only `make run` has those): no TLS there."""
    scheme = "http" if domain.rsplit(":", 1)[0] in LOOPBACK_HOSTS else "https"
    return f"{scheme}://{domain}/{code}"


@dataclass
class Link:
    domain: str
    code: str
    url: str
    created_at: str
    updated_at: str
    owner: str | None = None
    expires_at: int | None = None
    valid_since: int | None = None
    max_visits: int | None = None
    visits: int = 0
    disabled: bool = False
    redirect_status: int = 302
    forward_query: bool = False
    title: str | None = None
    tags: list[str] = field(default_factory=list)
    password_hash: str | None = None
    targets: dict[str, str] = field(default_factory=dict)
    password_failures: int = 0
    password_retry_at: int | None = None

    @property
    def link_id(self) -> str:
        return link_id(self.domain, self.code)

    @property
    def short_url(self) -> str:
        return short_url(self.domain, self.code)

    def is_expired(self, now: int) -> bool:
        # Valid while now < expires_at; the store's conditions use the same comparison.
        return self.expires_at is not None and self.expires_at <= now

    def state(self, now: int) -> str:
        if self.disabled:
            return "disabled"
        if self.is_expired(now):
            return "expired"
        if self.max_visits is not None and self.visits >= self.max_visits:
            return "exhausted"
        if self.valid_since is not None and now < self.valid_since:
            return "scheduled"
        return "active"

    def to_body(self, now: int) -> dict[str, Any]:
        return {
            "code": self.code,
            "domain": self.domain,
            "short_url": self.short_url,
            "url": self.url,
            "title": self.title,
            "tags": list(self.tags),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": iso(self.expires_at),
            "valid_since": iso(self.valid_since),
            "max_visits": self.max_visits,
            "visits": self.visits,
            "redirect_status": self.redirect_status,
            "forward_query": self.forward_query,
            "password_protected": self.password_hash is not None,
            "targets": dict(self.targets),
            "disabled": self.disabled,
            "state": self.state(now),
        }
