"""The /api routes' bodies as pydantic models: types, required and unknown fields.

The link fields' models (LinkBody, PatchBody, LinkOut) are built from the declarations
in links/model.py, so a field is declared once. The rules beyond types (URL, alias,
validity, ...) live in links/checks.py, so the web page, the API and the batch all report
them the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model
from pydantic.config import JsonDict

from ..keys.model import NAME_MAX, TEAM_MAX
from ..links import routing
from ..links.access import ROLES, Role
from ..links.checks import IN_APP, TARGET_KINDS
from ..links.limits import ALIAS, PREVIEW_DESCRIPTION, PREVIEW_TITLE, URL, Bounds
from ..links.model import DERIVED_SHOWN, GIVEN, SHOWN, default_of
from ..settings import PRESETS

_STRICT = ConfigDict(extra="forbid", strict=True)
MAX_BATCH = 100


def _published(bounds: Bounds | None) -> dict[str, Any] | None:
    """A field's bounds (links/limits.py) as its JSON Schema keywords: published, not enforced
    here, so that the rules report a too-long title together with every other bad field."""
    return bounds.schema() if bounds is not None else None


class ShortenBody(BaseModel):
    """POST /api/shorten: what the anonymous web page may ask for."""

    model_config = _STRICT

    url: str = Field(description="The long URL (http or https).", examples=["https://example.com/a/long/path?x=1"],
                     json_schema_extra=_published(URL))
    domain: str | None = Field(default=None, description="One of GET /api/domains; the default domain when absent.")
    alias: str | None = Field(default=None, description="Custom code (not a reserved word such as api or docs).",
                              json_schema_extra=_published(ALIAS))
    validity: str | None = Field(default=None, description=f"One of {', '.join(PRESETS)}; the stack default when absent.")
    expires_at: str | None = Field(default=None, description="Instead of validity: when the link expires, ISO 8601 "
                                                             "with an offset (a custom date on the page).")


# The per-platform targets as a closed object, so clients see (and are held to) its keys.
Targets = create_model("Targets", __config__=_STRICT, __doc__="Per-platform destinations; visitors on other platforms get `url`.",
                       **cast("dict[str, Any]", {kind: (str | None, Field(default=None, json_schema_extra=_published(URL)))
                                                 for kind in TARGET_KINDS}))
# Rules and previews are checked by links/checks.py (every bad part named at once); their shape is published here.
_API_TYPES: dict[str, Any] = {
    "targets": Targets,
    "in_app": Annotated[str, WithJsonSchema({"type": "string", "enum": list(IN_APP)})],
    "rules": Annotated[list[dict[str, Any]], WithJsonSchema(routing.json_schema())],
    "preview": Annotated[dict[str, Any], WithJsonSchema({
        "type": "object", "additionalProperties": False, "required": ["title"], "properties": {
            "title": {"type": "string", **PREVIEW_TITLE.schema()}, "description": {"type": "string", **PREVIEW_DESCRIPTION.schema()},
            "image": {"type": "string", **URL.schema(), "description": "An https URL of the image"}}})],
}


def _on_create(attr: str, json_type: Any, doc: str, clearable: bool, bounds: Bounds | None) -> tuple[Any, Any]:
    """A field a create may give: optional; absent or null (where null means nothing) is the model's default."""
    if clearable:
        return json_type | None, Field(default=None, description=doc or None, json_schema_extra=_published(bounds))
    return json_type, Field(default=default_of(attr), description=doc or None, json_schema_extra=_published(bounds))


_CREATE_FIELDS = {name: _on_create(attr, _API_TYPES.get(name, spec.json_type), spec.doc, spec.clearable, spec.bounds)
                  for attr, name, spec in GIVEN if spec.on_create and name not in ShortenBody.model_fields}
_PATCH_FIELDS = {
    "validity": (str | None, Field(default=None, description="Counted from now: extends or shortens the link.")),
    **{name: (_API_TYPES.get(name, spec.json_type) | None, Field(default=None, description=spec.doc or None,
                                                                 json_schema_extra=_published(spec.bounds)))
       for _, name, spec in GIVEN},
}
class ActorOut(BaseModel):
    """Who made a change: the API key's id and, for a managed key, its name."""

    key_id: str
    name: str | None = None


# Shown fields whose body is a shape of its own.
_SHOWN_TYPES: dict[str, Any] = {"created_by": ActorOut | None, "updated_by": ActorOut | None}
_SHOWN_FIELDS = {
    **{name: (_SHOWN_TYPES.get(name, spec.json_type), Field(description=spec.doc or None)) for _, name, spec in SHOWN},
    **{name: (json_type, ...) for name, json_type in DERIVED_SHOWN.items()},
    "owner": (str | None, Field(default=None, description="The API key id that owns the link; null for links made "
                                                          "on the page. Operators see every link's.")),
}

if TYPE_CHECKING:  # the checker's view of the models built below
    class LinkBody(ShortenBody): ...

    class PatchBody(BaseModel): ...

    class LinkOut(BaseModel): ...
else:
    LinkBody = create_model("LinkBody", __base__=ShortenBody, __doc__="POST /api/links: a link owned by the calling API key.",
                            **_CREATE_FIELDS)
    PatchBody = create_model("PatchBody", __config__=_STRICT,
                             __doc__="PATCH /api/links/{code}: only the fields given change; null clears a field.",
                             **_PATCH_FIELDS)
    LinkOut = create_model("LinkOut", __doc__="The link body every route returns (times are ISO 8601 UTC).", **_SHOWN_FIELDS)


class BatchBody(BaseModel):
    """POST /api/links/batch: 1 to 100 link bodies, each created or refused on its own."""

    model_config = _STRICT

    # Each item is a LinkBody, checked on its own (manage/app.py), so that a bad one fails alone.
    links: Annotated[list[dict[str, Any]], WithJsonSchema({
        "type": "array", "items": {"$ref": "#/components/schemas/LinkBody"}, "minItems": 1, "maxItems": MAX_BATCH})] = Field(
        min_length=1, max_length=MAX_BATCH)


class DomainsOut(BaseModel):
    domains: list[str]
    default_domain: str
    validities: list[str]
    default_validity: str
    public_shortening: bool


class LinkPage(BaseModel):
    links: list[LinkOut]
    cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


# A key's fields as published; their rules (keys/manage.py) check them all together, so a bad name
# is reported beside a bad team, as a link's fields are.
_ROLE = Annotated[str, WithJsonSchema({"type": "string", "enum": list(ROLES), "description": (
    "admin: every link and key; member: creates, reads and changes its team's links; viewer: reads them.")})]
_NAME: JsonDict = {"minLength": 1, "maxLength": NAME_MAX}
_TEAM: JsonDict = {"maxLength": TEAM_MAX, "description": "Members of one team share their links; null: a team of its own (the key's links only)."}
_DOMAINS: JsonDict = {"minItems": 1, "description": "Short domains it may use; null: all."}


class KeyBody(BaseModel):
    """POST /api/keys: a key for a person or a program (admins only)."""

    model_config = _STRICT

    name: str = Field(description="Who or what uses it.", json_schema_extra=_NAME)
    role: _ROLE = "member"
    team: str | None = Field(default=None, json_schema_extra=_TEAM)
    domains: list[str] | None = Field(default=None, json_schema_extra=_DOMAINS)
    expires_at: str | None = Field(default=None, description="ISO 8601 with offset; refused from then on.")


class KeyPatch(BaseModel):
    """PATCH /api/keys/{id}: only the fields given change; null clears team, domains or expires_at."""

    model_config = _STRICT

    name: str | None = Field(default=None, json_schema_extra=_NAME)
    role: _ROLE | None = None
    team: str | None = Field(default=None, json_schema_extra=_TEAM)
    domains: list[str] | None = Field(default=None, json_schema_extra=_DOMAINS)
    expires_at: str | None = None


class KeyOut(BaseModel):
    """A key as the API shows it: never its secret."""

    id: str
    name: str | None = Field(description="Null for a key API Gateway made (not managed here).")
    role: Role
    team: str | None
    domains: list[str] | None
    state: Literal["active", "expired", "revoked"]
    expires_at: str | None
    created_at: str | None = Field(description="Null for a key API Gateway made (not managed here).")
    revoked_at: str | None
    created_by: ActorOut | None


class KeyMade(KeyOut):
    key: str = Field(description="The secret, for the x-api-key header: shown in this answer only, stored as a hash.")


class KeyList(BaseModel):
    keys: list[KeyOut]


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error as RFC 9457 problem+json; `errors` names every bad field of a 422."""

    type: str
    title: str
    status: int | None = None
    detail: str
    errors: list[FieldProblem] | None = None
    request_id: str | None = Field(default=None, description="The request this answers (API Gateway's request id): "
                                                             "quote it when reporting a problem; the log has it.")


class BatchResult(BaseModel):
    status: int = Field(description="201, or the status the item alone would have been answered with.")
    link: LinkOut | None = Field(default=None, description="The link made (status 201).")
    error: Problem | None = Field(default=None, description="Why this item was not made.")


class BatchOut(BaseModel):
    results: list[BatchResult]


class Breakdown(BaseModel):
    """One day's or hour's visits and their counts by dimension."""

    visits: int
    visitors: int = Field(description="Unique visitors (by keyed hash of address and User-Agent; exact up to 200 an hour, "
                                      "then a sketch with 1.6 % standard error).")
    platforms: dict[str, int]
    apps: dict[str, int]
    referrers: dict[str, int]
    countries: dict[str, int]
    browsers: dict[str, int]
    os: dict[str, int]
    devices: dict[str, int]
    bots: int | None = Field(default=None, description="Bot visits (with include_bots=true); not in visits.")
    bot_agents: dict[str, int] | None = Field(default=None, description="Bot visits by bot (with include_bots=true).")


class DayCount(Breakdown):
    day: str = Field(description="A day in the time zone asked for, YYYY-MM-DD.")


class HourCount(Breakdown):
    hour: str = Field(description="The hour's start in the time zone asked for, e.g. 2026-11-25T16:00+08:00.")


class StatsOut(BaseModel):
    code: str
    domain: str
    from_: str = Field(alias="from")
    to: str
    tz: str = Field(description="The IANA time zone of the days and hours.")
    granularity: Literal["day", "hour"]
    total: int = Field(description="Visits in the range (bots and HEAD excluded); the same in every time zone.")
    days: list[DayCount] | None = Field(default=None, description="By day: every day of the range, zero when nobody visited.")
    hours: list[HourCount] | None = Field(default=None, description="By hour: every hour of the range, zero when nobody visited.")
    platforms: dict[str, int] = Field(description="ios, android, windows, macos, linux, other.")
    apps: dict[str, int] = Field(description="In-app browsers: wechat, qq, weibo, douyin, alipay.")
    referrers: dict[str, int] = Field(description="Referrer hosts; (direct) without one, (other) past the top 20 of an hour.")
    countries: dict[str, int] = Field(description="ISO country codes from CloudFront-Viewer-Country; (unknown) without it.")
    browsers: dict[str, int] = Field(description="Browser families (ua-parser): Chrome, Mobile Safari, WeChat Browser, ...")
    os: dict[str, int] = Field(description="Operating systems (ua-parser): iOS, Android, Windows, Mac OS X, Linux, ...")
    devices: dict[str, int] = Field(description="mobile, tablet, desktop or (unknown).")
    visitors: int = Field(description="Unique visitors, counted per day in the stack's StatsTimeZone and added up over the range.")
    bots: int | None = Field(default=None, description="Bot visits in the range (with include_bots=true); not in total.")
    bot_agents: dict[str, int] | None = Field(default=None, description="Bot visits by bot (with include_bots=true).")


class LinkEventDetail(BaseModel):
    event_id: str = Field(description="The stream record's id and the kind: the same for a repeated delivery.")
    link: LinkOut = Field(description="The link as the API shows it, after the change (before it, for link.deleted).")
    owner: str | None = Field(description="The API key id that owns the link; null for links made on the page.")
    actor: ActorOut | None = Field(default=None, description=(
        "link.created, link.updated, link.deleted: the API key that made the change; null for the service's own events."))
    milestone: int | None = Field(default=None, description="link.milestone: the visits reached (100, 1000, ...).")


class LinkEvent(BaseModel):
    """A link event as EventBridge delivers it to a rule's target, and as the webhook receives it."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: str
    detail_type: Literal["link.created", "link.updated", "link.deleted", "link.expired", "link.exhausted",
                         "link.milestone"] = Field(alias="detail-type")
    source: Literal["shortlink"]
    account: str
    time: str = Field(description="When the change happened, ISO 8601 UTC.")
    region: str
    resources: list[str]
    detail: LinkEventDetail


PROBLEM_TITLES = {
    400: "Malformed request body", 403: "Forbidden (no or a wrong API key, or turned off)", 404: "No such link",
    409: "Alias taken, or the same Idempotency-Key still in progress", 413: "Request body too large",
    415: "Unsupported media type", 422: "Invalid input", 429: "Too many requests",
    500: "Internal error (logged under the request id the answer names)", 503: "Service temporarily unavailable",
}
# Every keyed route may meet API Gateway's 403 (key) and 429 (usage plan), and a store fault.
KEYED = (403, 429, 503)
WITH_BODY = (400, 413, 415, 422)


def answers(status: int, model: Any = None, *problems: int, description: str = "Success",
            content: dict[str, Any] | None = None) -> dict[int, Any]:
    """The OpenAPI `responses` of a route: its success answer and each problem it may answer."""
    success: dict[str, Any] = {"description": description}
    if content is not None:
        success["content"] = content
    elif model is not None:
        success["content"] = {"application/json": {"model": model}}
    documented = {status: success}
    for code in sorted({*problems, 500}):  # any route may meet the unforeseen (http/boundary.py)
        documented[code] = {"description": PROBLEM_TITLES[code], "content": {"application/problem+json": {"model": Problem}}}
    return documented
