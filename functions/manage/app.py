"""The management API of an API key's links (its team's; an admin's: every link): list, read,
change, delete, batch create; the managed API keys (/api/keys); the OpenAPI document."""

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParameter
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from shortlink import clock
from shortlink.api.callers import request_caller
from shortlink.api.idempotency import once_per_key, register_context
from shortlink.api.keys import router as keys_router
from shortlink.api.resolver import field_errors, json_response, resolve, rest_api
from shortlink.api.schemas import KEYED, WITH_BODY, BatchBody, BatchOut, LinkBody, LinkOut, LinkPage, PatchBody, StatsOut, answers
from shortlink.clock import hour_of
from shortlink.errors import InvalidInput
from shortlink.http.boundary import known
from shortlink.http.csvfile import CSV_TYPE, csv_text, wants_csv
from shortlink.http.i18n import MESSAGES
from shortlink.http.problems import problem_body
from shortlink.http.qrcodes import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, qr_image
from shortlink.http.requests import request_id
from shortlink.links.access import Caller
from shortlink.links.catalogue import Catalogue
from shortlink.links.create import create_link
from shortlink.links.identity import LinkId
from shortlink.links.limits import TAGS, URL
from shortlink.links.listing import MAX_LIMIT, list_links, read_owned
from shortlink.links.model import Link, State
from shortlink.links.patch import patch_link
from shortlink.links.search import Search, Sort
from shortlink.links.store import LinkStore
from shortlink.settings import load_settings
from shortlink.stats.query import stats_range
from shortlink.stats.report import report, report_table
from shortlink.stats.store import StatsStore

logger = Logger()
metrics = Metrics()
app = rest_api(logger)
app.include_router(keys_router)
OPENAPI = Path(__file__).parent / "openapi.json"
DOCS_PAGE = Path(__file__).parent / "docs.html"
# Redoc's standalone bundle (REDOC-LICENSE.md), served here: the page loads nothing from elsewhere.
DOCS_VIEWER = Path(__file__).parent / "redoc.standalone.js"
# The docs page reaches nothing outside the stack; Redoc styles with inline styles and searches
# in a worker it makes from a blob.
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; worker-src blob:; base-uri 'none'; frame-ancestors 'none'")

Domain = Annotated[str | None, Query(description="Short domain of the link; the default domain when absent.")]
# A code's own alphabet: never empty, never "." or ".." (clients fold those into /api/links/, the listing).
Code = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The link's code (case-sensitive).")]


def _caller() -> Caller:
    return request_caller(app)


def _store() -> LinkStore:
    return LinkStore.of(load_settings())


def _catalogue() -> Catalogue:
    return Catalogue.of(load_settings())


def _stats() -> StatsStore:
    return StatsStore(load_settings().require_stats_table())


def _bodies(links: list[Link], now: int) -> list[dict[str, Any]]:
    """The links' bodies, with the visits counted on their counters (the statistics' life rows)."""
    settings = load_settings()
    return [link.to_body(now, settings) for link in _stats().counted(links)]


def _link_id(code: str, domain: str | None) -> LinkId:
    return LinkId((domain or load_settings().default_domain).lower(), code)


@app.get("/links", summary="Find the key's links (an operator's: every link), newest first (JSON or CSV)", responses=answers(
    200, None, *KEYED, 422, content={"application/json": {"model": LinkPage}, "text/csv": {"schema": {"type": "string"}}}))
# No return annotation: CSV is no JSON for the response validator; `responses` documents both.
def list_own_links(  # type: ignore[no-untyped-def]
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    q: Annotated[str | None, Query(max_length=URL.max_length, description=(
        "A code exactly, or any part of the title, the long URL or a tag (any case; Chinese too)."))] = None,
    tag: Annotated[str | None, Query(max_length=TAGS.items.max_length if TAGS.items else None)] = None,
    domain: Annotated[str | None, Query(max_length=URL.max_length)] = None,
    state: Annotated[State | None, Query()] = None,
    sort: Annotated[Sort, Query(description=(
        "-created: newest first (default); created: oldest first; -visits: most visits first; visits: fewest "
        "first (visits as the statistics counted them, up to about a minute behind; equals newest or oldest first)."))] = "-created",
    output: Annotated[Literal["json", "csv"] | None, Query(
        alias="format", description="csv: the page as a spreadsheet (UTF-8 with BOM); also by Accept: text/csv.")] = None,
):
    now = clock.now()
    caller = _caller()
    if domain is None and caller.domains is not None and len(caller.domains) == 1:
        domain = caller.domains[0]  # a key limited to one domain lists that domain's list: no page emptied by the limit
    search = Search(q=q or None, tag=tag, domain=domain.lower() if domain else None, state=state, sort=sort)
    page = list_links(_store(), _catalogue(), _stats().counted, caller, search, limit=limit, cursor=cursor, now=now)
    settings = load_settings()
    bodies = [link.to_body(now, settings) for link in page.links]
    next_cursor = page.cursor
    if wants_csv(output, app.current_event.headers.get("accept")):
        header = list(LinkOut.model_fields)
        rows = [[_cell(body[name]) for name in header] for body in bodies]
        return _csv(csv_text(header, rows), "links.csv", next_cursor)
    return json_response(200, {"links": bodies, "cursor": next_cursor})


def _cell(value: Any) -> Any:
    """A link body's value as one spreadsheet cell: lists of text and maps of text joined by ';',
    anything nested (the redirect rules) as its JSON."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    if isinstance(value, list) or (isinstance(value, dict) and not all(isinstance(v, str) for v in value.values())):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return value


def _csv(text: str, filename: str, cursor: str | None = None) -> Response[str]:
    headers = {"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{filename}"'}
    if cursor:
        headers["X-Next-Cursor"] = cursor  # the next page, as ?cursor=
    return Response(200, CSV_TYPE, text, headers=headers)


@app.get("/links/<code>", summary="Read one link", responses=answers(200, LinkOut, *KEYED, 404, 422))
def read_link(code: Code, domain: Domain = None) -> Response[LinkOut]:
    link = read_owned(_store(), _catalogue(), _link_id(code, domain), _caller())
    return json_response(200, _bodies([link], clock.now())[0])


@app.get("/links/<code>/stats", summary="Visits by day or hour in the viewer's time zone, platform, app, referrer, country",
         responses=answers(200, None, *KEYED, 404, 422, content={"application/json": {"model": StatsOut},
                                                                  "text/csv": {"schema": {"type": "string"}}}))
# No return annotation, as above: CSV or JSON (checked against StatsOut here).
def link_stats(  # type: ignore[no-untyped-def]
    code: Code,
    domain: Domain = None,
    start: Annotated[str | None, Query(alias="from", description="First day, YYYY-MM-DD in `tz` (default: 29 days before `to`).")] = None,
    end: Annotated[str | None, Query(alias="to", description="Last day, YYYY-MM-DD in `tz` (default: today there).")] = None,
    tz: Annotated[str | None, Query(max_length=64, description="IANA time zone of the days and hours (default: the stack's StatsTimeZone).")] = None,
    granularity: Annotated[Literal["day", "hour"], Query(description="A series by day, or by hour (ranges of at most 31 days).")] = "day",
    include_bots: Annotated[bool, Query(description="Also count bot visits (crawlers, link previews), apart from visits.")] = False,
    output: Annotated[Literal["json", "csv"] | None, Query(alias="format", description=(
        "csv: one row per day or hour, one column per dimension value (UTF-8 with BOM); also by Accept: text/csv."))] = None,
    lang: Annotated[Literal["zh-CN", "en"] | None, Query(description=(
        "The CSV's header in this language (日期, 访问次数, 平台:安卓 …); without it, names a program reads (day, visits, platform:android …)."))] = None,
):
    settings = load_settings()
    link = read_owned(_store(), _catalogue(), _link_id(code, domain), _caller())
    if not tz:
        settings.time_zone()  # the stack's own zone: a bad one is the operator's error, not the caller's 422
    asked = stats_range(link, start, end, clock.now(), tz or settings.stats_time_zone, granularity)
    hours = asked.utc_hours()
    rows = _stats().hours(link.life, hour_of(hours[0]), hour_of(hours[-1]))
    answer = report(link, asked, granularity, rows, include_bots=include_bots)
    if wants_csv(output, app.current_event.headers.get("accept")):
        texts = MESSAGES[lang] if lang else None
        return _csv(csv_text(*report_table(answer, texts)), f"stats-{link.code}.csv")
    return json_response(200, StatsOut.model_validate(answer).model_dump(by_alias=True, exclude_none=True))


# No return annotation: an image is not JSON for the response validator; `responses` documents it.
@app.get("/links/<code>/qr", summary="QR code of the short URL", responses=answers(
    200, None, *KEYED, 404, 422, description="The QR code", content={"image/svg+xml": {}, "image/png": {}}))
def link_qr(  # type: ignore[no-untyped-def]
    code: Code,
    domain: Domain = None,
    image_format: Annotated[Literal["svg", "png"], Query(alias="format")] = "svg",
    size: Annotated[int, Query(ge=MIN_SIZE, le=MAX_SIZE, description="Width in pixels.")] = DEFAULT_SIZE,
):
    link = _store().get_owned(_link_id(code, domain), _caller())
    image, content_type = qr_image(load_settings().short_url(link.domain, link.code), image_format, size)
    return Response(200, content_type, image, headers={"Cache-Control": "private, max-age=86400"})


@app.patch("/links/<code>", summary="Change a link (null clears a field)",
           responses=answers(200, LinkOut, *KEYED, *WITH_BODY, 404))
def change_link(code: Code, body: Annotated[PatchBody, Body()], domain: Domain = None) -> Response[LinkOut]:
    now = clock.now()
    changes = body.model_dump(exclude_unset=True)
    caller = _caller()
    link = patch_link(_store(), load_settings(), _link_id(code, domain), caller, changes, now, tally_of=_stats().tally_of)
    logger.info("link changed", extra={"link_id": link.id.key, "fields": sorted(changes), "by_operator": caller.admin})
    return json_response(200, _bodies([link], now)[0])


@app.delete("/links/<code>", summary="Delete a link; its code is free at once",
            responses=answers(204, None, *KEYED, 404, 422, description="Deleted"))
def delete_link(code: Code, domain: Domain = None) -> Response[None]:
    link_id = _link_id(code, domain)
    caller = _caller()
    store = _store()
    store.delete_owned(store.get_owned(link_id, caller), caller, clock.now())
    logger.info("link deleted", extra={"link_id": link_id.key, "by_operator": caller.admin})
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


def _create_one(item: dict[str, Any], caller: Caller, now: int) -> dict[str, Any]:
    """One batch item, created or failed alone: its failure mapped as any request's (http/boundary.py)."""
    settings = load_settings()
    try:
        try:
            body = LinkBody.model_validate(item)
        except ValidationError as invalid:
            raise InvalidInput(field_errors(invalid.errors())) from None
        link = create_link(LinkStore.of(settings), settings, body.model_dump(), caller, now)
    except Exception as error:
        failure = known(error, request_id(app.current_event.raw_event), logger)
        return {"status": failure.status, "error": problem_body(failure)}
    metrics.add_metric(name="LinksCreated", unit=MetricUnit.Count, value=1)
    return {"status": 201, "link": link.to_body(now, settings)}


@app.post("/links/batch", summary="Create up to 100 links; each succeeds or fails alone",
          responses=answers(200, BatchOut, *KEYED, *WITH_BODY, 409, description="One result per link, in order"))
def create_batch(
    body: Annotated[BatchBody, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[BatchOut]:
    caller = _caller()
    caller.may_write()
    now = clock.now()

    def produce() -> dict[str, Any]:
        return {"results": [_create_one(item, caller, now) for item in body.links]}

    return json_response(200, once_per_key(idempotency_key, caller.key_id, body.model_dump(), produce))


@app.get("/openapi.json", summary="This OpenAPI document", responses=answers(200, None, 429, content={"application/json": {}}))
def openapi() -> Response[Any]:
    return Response(200, "application/json", OPENAPI.read_text(encoding="utf-8"), headers={"Cache-Control": "public, max-age=300"})


@app.get("/docs", summary="The OpenAPI document as a page", responses=answers(200, None, 429, content={"text/html": {}}))
def docs() -> Response[Any]:
    return Response(200, "text/html; charset=utf-8", DOCS_PAGE.read_text(encoding="utf-8"),
                    headers={"Cache-Control": "public, max-age=300", "Content-Security-Policy": DOCS_CSP})


@app.get("/docs/viewer.js", summary="The docs page's viewer (Redoc 2.5.4, MIT)", responses=answers(
    200, None, 429, content={"text/javascript": {}}))
def docs_viewer() -> Response[Any]:
    return Response(200, "text/javascript; charset=utf-8", DOCS_VIEWER.read_text(encoding="utf-8"),
                    headers={"Cache-Control": "public, max-age=86400"})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    register_context(context)
    return resolve(app, event, context, logger)
