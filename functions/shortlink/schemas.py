"""Request bodies of the /api routes as pydantic models: types, required and unknown fields.

The rules beyond types (URL, alias, validity, ...) live in the core (creating.py),
so the web page, the API and the batch all report them the same way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .validity import PRESETS

_STRICT = ConfigDict(extra="forbid", strict=True)


class ShortenBody(BaseModel):
    """POST /api/shorten: what the anonymous web page may ask for."""

    model_config = _STRICT

    url: str = Field(description="The long URL (http or https).", examples=["https://example.com/a/long/path?x=1"])
    domain: str | None = Field(default=None, description="One of GET /api/domains; the default domain when absent.")
    alias: str | None = Field(default=None, description="Custom code: 3-64 of A-Z a-z 0-9 _ -.")
    validity: str | None = Field(default=None, description=f"One of {', '.join(PRESETS)}; the stack default when absent.")


class LinkBody(ShortenBody):
    """POST /api/links: a link owned by the calling API key."""

    expires_at: str | None = Field(default=None, description="ISO 8601 time with offset; instead of validity.")
    title: str | None = Field(default=None, description="Up to 200 characters.")
    tags: list[str] = Field(default_factory=list, description="Up to 10 tags of 1-50 characters.")


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
