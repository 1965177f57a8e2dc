"""Request bodies of the /api routes as pydantic models: types, required and unknown fields.

The rules beyond types (URL, alias, validity, ...) live in the core (creating.py),
so the web page, the API and the batch all report them the same way.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .creating import LinkRequest
from .validity import PRESETS

_STRICT = ConfigDict(extra="forbid", strict=True)


class ShortenBody(BaseModel):
    """POST /api/shorten: what the anonymous web page may ask for."""

    model_config = _STRICT

    url: str = Field(description="The long URL (http or https).", examples=["https://example.com/a/long/path?x=1"])
    domain: str | None = Field(default=None, description="One of GET /api/domains; the default domain when absent.")
    alias: str | None = Field(default=None, description="Custom code: 3-64 of A-Z a-z 0-9 _ -.")
    validity: str | None = Field(default=None, description=f"One of {', '.join(PRESETS)}; the stack default when absent.")


class Targets(BaseModel):
    """Per-platform destinations; visitors on other platforms get `url`."""

    model_config = _STRICT

    ios: str | None = None
    android: str | None = None
    desktop: str | None = None


class LinkBody(ShortenBody):
    """POST /api/links: a link owned by the calling API key."""

    expires_at: str | None = Field(default=None, description="ISO 8601 time with offset; instead of validity.")
    valid_since: str | None = Field(default=None, description="ISO 8601 time with offset; 404 before it.")
    max_visits: int | None = Field(default=None, description="The visit after this many answers 410.")
    redirect_status: Literal[301, 302, 307, 308] = 302
    forward_query: bool = Field(default=False, description="Append the visitor's query string to the target.")
    title: str | None = Field(default=None, description="Up to 200 characters.")
    tags: list[str] = Field(default_factory=list, description="Up to 10 tags of 1-50 characters.")
    password: str | None = Field(default=None, description="Visitors must enter it (4-128 characters).")
    targets: Targets | None = None


def link_request(body: ShortenBody) -> LinkRequest:
    """The core's request from a validated body (either route's)."""
    data = body.model_dump()
    if data.get("targets") is None:
        data.pop("targets", None)
    return LinkRequest(**data)


class BatchBody(BaseModel):
    """POST /api/links/batch: 1 to 100 link bodies, each created or refused on its own."""

    model_config = _STRICT

    links: list[dict[str, Any]] = Field(min_length=1, max_length=100)


class PatchBody(BaseModel):
    """PATCH /api/links/{code}: only the fields given change; null clears a field."""

    model_config = _STRICT

    url: str | None = None
    validity: str | None = Field(default=None, description="Counted from now: extends or shortens the link.")
    expires_at: str | None = Field(default=None, description="null makes the link permanent.")
    valid_since: str | None = None
    max_visits: int | None = None
    redirect_status: Literal[301, 302, 307, 308] | None = None
    forward_query: bool | None = None
    targets: Targets | None = None
    password: str | None = Field(default=None, description="A new password, or null to remove it.")
    disabled: bool | None = None
    title: str | None = None
    tags: list[str] | None = None


class LinkOut(BaseModel):
    """The link body every route returns (times are ISO 8601 UTC)."""

    code: str
    domain: str
    short_url: str
    url: str
    title: str | None
    tags: list[str]
    created_at: str
    updated_at: str
    expires_at: str | None = Field(description="null for a permanent link")
    valid_since: str | None
    max_visits: int | None
    visits: int
    redirect_status: int
    forward_query: bool
    password_protected: bool
    targets: dict[str, str]
    disabled: bool
    state: Literal["active", "scheduled", "expired", "exhausted", "disabled"]


class DomainsOut(BaseModel):
    domains: list[str]
    default_domain: str
    validities: list[str]
    default_validity: str
    public_shortening: bool


class LinkPage(BaseModel):
    links: list[LinkOut]
    cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class BatchResult(BaseModel):
    status: int
    link: LinkOut | None = None
    error: dict[str, Any] | None = None


class BatchOut(BaseModel):
    results: list[BatchResult]


class DayCount(BaseModel):
    day: str
    visits: int


class StatsOut(BaseModel):
    code: str
    domain: str
    from_: str = Field(alias="from")
    to: str
    total: int = Field(description="Visits in the range (bots and HEAD excluded).")
    days: list[DayCount] = Field(description="Every day of the range, zero when nobody visited.")
    platforms: dict[str, int] = Field(description="ios, android, windows, macos, linux, other.")
    apps: dict[str, int] = Field(description="In-app browsers: wechat, qq, weibo, douyin, alipay.")
    referrers: dict[str, int] = Field(description="Referrer hosts; (direct) without one, (other) past the top 20.")
