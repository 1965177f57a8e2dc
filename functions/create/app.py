"""POST /api/links (API key), POST /api/shorten (anonymous), GET /api/domains."""

from typing import Annotated, Any
from urllib.parse import quote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shortlink import clock
from shortlink.api.callers import request_caller
from shortlink.api.idempotency import once_per_key, register_context
from shortlink.api.resolver import json_response, resolve, rest_api
from shortlink.api.schemas import KEYED, WITH_BODY, DomainsOut, LinkBody, LinkOut, ShortenBody, answers
from shortlink.errors import Forbidden
from shortlink.links.access import Caller
from shortlink.links.create import create_link
from shortlink.links.store import LinkStore
from shortlink.settings import PRESETS, load_settings

logger = Logger()
metrics = Metrics()
app = rest_api(logger)


def _created(body: ShortenBody, caller: Caller | None) -> dict[str, Any]:
    settings = load_settings()
    now = clock.now()
    link = create_link(LinkStore.of(settings), settings, body.model_dump(), caller, now)
    logger.info("link created", extra={"link_id": link.id.key, "owned": caller is not None})
    metrics.add_metric(name="LinksCreated", unit=MetricUnit.Count, value=1)
    location = f"/api/links/{quote(link.code)}?domain={quote(link.domain)}" if caller else settings.short_url(link.domain, link.code)
    return {"link": link.to_body(now, settings), "location": location}


@app.post("/links", summary="Create a link owned by the API key",
          responses=answers(201, LinkOut, *KEYED, *WITH_BODY, 409, description="Created; Location names it"))
def create_owned_link(
    body: Annotated[LinkBody, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[LinkOut]:
    caller = request_caller(app)
    caller.may_write()
    answer = once_per_key(idempotency_key, caller.key_id, body.model_dump(), lambda: _created(body, caller))
    return json_response(201, answer["link"], {"Location": answer["location"]})


@app.post("/shorten", summary="Create an anonymous link (the web page)",
          responses=answers(201, LinkOut, 403, 429, 503, *WITH_BODY, 409, description="Created; Location is the short URL"))
def shorten(body: Annotated[ShortenBody, Body()]) -> Response[LinkOut]:
    if not load_settings().public_shortening:
        raise Forbidden("anonymous shortening is turned off on this service; use POST /api/links with an API key")
    answer = _created(body, None)
    return json_response(201, answer["link"], {"Location": answer["location"]})


@app.get("/domains", summary="Short domains and validity presets", responses=answers(200, DomainsOut, 429, 503))
def domains() -> Response[DomainsOut]:
    settings = load_settings()
    return json_response(
        200,
        {
            "domains": list(settings.short_domains),
            "default_domain": settings.default_domain,
            "validities": list(PRESETS),
            "default_validity": settings.default_validity,
            "public_shortening": settings.public_shortening,
        },
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    register_context(context)
    return resolve(app, event, context, logger)
