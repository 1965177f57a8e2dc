"""POST /api/links (API key), POST /api/shorten (anonymous), GET /api/domains."""

import time
from typing import Annotated, Any
from urllib.parse import quote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from shortlink.creating import LinkRequest, build_link, create_link
from shortlink.errors import Forbidden
from shortlink.link import Link
from shortlink.rest import json_response, resolve, rest_api
from shortlink.schemas import DomainsOut, LinkBody, LinkOut, ShortenBody
from shortlink.settings import load_settings
from shortlink.store import LinkStore
from shortlink.validity import PRESETS

logger = Logger()
app = rest_api(logger)


def _create(request: LinkRequest, owner: str | None) -> tuple[Link, int]:
    settings = load_settings()
    now = time.time()
    link = build_link(request, settings, owner, now)
    create_link(LinkStore(settings.links_table), link, alias_given=request.alias is not None, now=now)
    logger.info("link created", extra={"link_id": link.link_id, "owned": owner is not None})
    return link, int(now)


@app.post("/api/links")
def create_owned_link(body: Annotated[LinkBody, Body()]) -> Response[LinkOut]:
    owner = app.current_event.request_context.identity.api_key_id
    link, now = _create(LinkRequest(**body.model_dump()), owner)
    location = f"/api/links/{quote(link.code)}?domain={quote(link.domain)}"
    return json_response(201, link.to_body(now), {"Location": location})


@app.post("/api/shorten")
def shorten(body: Annotated[ShortenBody, Body()]) -> Response[LinkOut]:
    if not load_settings().public_shortening:
        raise Forbidden("anonymous shortening is turned off on this service; use POST /api/links with an API key")
    link, now = _create(LinkRequest(**body.model_dump()), None)
    return json_response(201, link.to_body(now), {"Location": link.short_url})


@app.get("/api/domains")
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


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
