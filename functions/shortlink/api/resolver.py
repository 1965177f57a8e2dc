"""The Powertools REST resolver shared by the /api functions: problem+json for every error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..errors import FieldError, InvalidInput, MalformedBody, RouteNotFound, ShortLinkError
from ..http.boundary import guarded, known
from ..http.problems import problem_response
from ..http.requests import request_id, with_plain_json_body

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def problem(error: ShortLinkError) -> Response[str]:
    """The router's form of the one problem+json answer (http/problems.py)."""
    answer = problem_response(error)
    return Response(status_code=answer["statusCode"], headers=answer["headers"], body=answer["body"])


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    """A JSON answer; the router validates body against the route's response model."""
    return Response(
        status_code=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **(headers or {})},
        body=body,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    """('body', 'tags', 0) -> 'tags[0]'; ('query', 'limit') -> 'limit'."""
    name = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or (str(loc[0]) if loc else "body")


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    return str(error.get("msg", "invalid value"))


def field_errors(details: Sequence[Any]) -> list[FieldError]:
    """pydantic's error list as the problem's errors: [{field, message}]."""
    return [FieldError(_field_name(tuple(d.get("loc", ()))), _message(d)) for d in details]


def _as_failure(error: Exception) -> Exception:
    """The router's own refusals as the ShortLinkErrors they mean; anything else as it is."""
    if isinstance(error, RequestValidationError):
        details = error.errors()
        if any(d.get("type") == "json_invalid" for d in details):
            return MalformedBody("the body is not valid JSON")
        return InvalidInput(field_errors(details))
    if isinstance(error, NotFoundError):
        return RouteNotFound("no such API route")
    return error


# A short domain maps its base path "api" to the REST API: the event's path keeps it (/api/links)
# while the API's own resource is /links; the REST API's own host, or PublicApi's pass-through,
# sends /links. Routes are declared without it and match either way.
API_BASE_PATH = "/api"


def rest_api(logger: Logger) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, strip_prefixes=[API_BASE_PATH])

    # One handler for every exception (Powertools looks handlers up along the exception's MRO, so
    # this one also takes validation errors and unknown routes): the boundary's mapping.
    @app.exception_handler(Exception)
    def _failed(error: Exception) -> Response[str]:
        return problem(known(_as_failure(error), request_id(app.current_event.raw_event), logger))

    return app


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any, logger: Logger) -> dict[str, Any]:
    """Check the JSON body of writes first (415/413/400), then let the router run; whatever
    fails on the way is answered through the same boundary."""

    def run() -> dict[str, Any]:
        if event.get("httpMethod") == "HEAD":  # the GET route's answer, without its body
            answered = app.resolve(as_get(event), context)
            return {**answered, "body": "", "isBase64Encoded": False}
        checked = with_plain_json_body(event) if event.get("httpMethod") in BODY_METHODS else event
        return app.resolve(checked, context)

    return guarded(run, problem_response, request_id(event, context), logger)


def as_get(event: dict[str, Any]) -> dict[str, Any]:
    """A HEAD request's event as its GET (the routes are declared for GET)."""
    context = {**(event.get("requestContext") or {}), "httpMethod": "GET"}
    return {**event, "httpMethod": "GET", "requestContext": context}
