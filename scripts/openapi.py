"""Writes functions/manage/openapi.json: the OpenAPI document of every /api route.

The /api routes live in two functions (create and manage); each one's Powertools
resolver describes its own routes, and template.yaml says which need an API key.
`make openapi` runs this; a test fails when the committed file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from devserver.gateway import load_module  # noqa: E402
from devserver.template import Template  # noqa: E402
from shortlink.api.resolver import API_BASE_PATH  # noqa: E402

OUTPUT = ROOT / "functions" / "manage" / "openapi.json"
KEY_SCHEME = {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}


def build() -> dict[str, Any]:
    template = Template()
    api_functions = sorted({r.function for r in template.routes() if r.public_path.startswith(API_BASE_PATH + "/")})
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Short links API", "version": "1",
                 "description": "Create, follow and manage expiring short links. Errors are application/problem+json."},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": KEY_SCHEME},
    }
    for name in api_functions:
        part = json.loads(load_module(template.functions()[name]).app.get_openapi_json_schema())
        for path, operations in part.get("paths", {}).items():
            # the REST API's resources, as clients reach them on a short domain: under its "api" mapping
            document["paths"].setdefault(API_BASE_PATH + path, {}).update(operations)
        document["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    for route in template.routes():
        operation = document["paths"].get(route.public_path, {}).get(route.method.lower())
        if operation is not None and route.api_key_required:
            operation["security"] = [{"apiKey": []}]
    for operations in document["paths"].values():
        for operation in operations.values():
            _as_answered(operation["responses"])
    for unused in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(unused, None)
    document["webhooks"] = _link_events(document["components"]["schemas"])
    return document


def _link_events(schemas: dict[str, Any]) -> dict[str, Any]:
    """The events: what WebhookUrl (an EventBridge API destination) receives, one POST each."""
    from shortlink.api.schemas import LinkEvent

    schema = LinkEvent.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas["LinkEvent"] = schema
    return {"linkEvent": {"post": {
        "summary": "A link event, posted to WebhookUrl",
        "description": ("link.created, link.updated, link.deleted, link.expired (within about a minute of expires_at), "
                        "link.exhausted (max_visits reached) and link.milestone (100, 1,000, 10,000 ... visits). "
                        "Delivered at least once: detail.event_id is the same for a repeat. The stack's EventBridge bus "
                        "(output EventBusName) carries the same events for rules of your own."),
        "parameters": [{"name": "x-shortlink-webhook-key", "in": "header", "required": True,
                        "description": "The value of the secret the stack output WebhookKeySecret names.",
                        "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LinkEvent"}}}},
        "responses": {"2XX": {"description": "Taken; anything else is retried for up to a day."}},
    }}}


def _as_answered(responses: dict[str, Any]) -> None:
    """What the routes really answer: Powertools adds a 422 of its own JSON shape to every route
    (ours are problem+json, documented where they can happen) and a body to a 204."""
    default_422 = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if default_422.get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    if "204" in responses:
        responses["204"].pop("content", None)


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
