"""The Powertools REST resolver shared by the /api functions: problem+json for every error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..errors import FieldError, InvalidInput, MalformedBody, RouteNotFound, ShortLinkError
from ..http.problems import problem_response
from ..http.requests import with_plain_json_body

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


def rest_api(logger: Logger) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(ShortLinkError)
    def _known(error: ShortLinkError) -> Response[str]:
        return problem(error)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        details = error.errors()
        if any(d.get("type") == "json_invalid" for d in details):
            return problem(MalformedBody("the body is not valid JSON"))
        return problem(InvalidInput(field_errors(details)))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return problem(ShortLinkError("the request failed unexpectedly; it has been logged"))

    @app.not_found
    def _no_route(_: Exception) -> Response[str]:
        return problem(RouteNotFound("no such API route"))

    return app


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Check the JSON body of writes first (415/413/400), then let the router run."""
    if event.get("httpMethod") in BODY_METHODS:
        try:
            event = with_plain_json_body(event)
        except ShortLinkError as error:
            return problem_response(error)
    return app.resolve(event, context)
