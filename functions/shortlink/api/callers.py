"""The caller of an /api request, as the key authorizer (or API Gateway's own key check) named it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from ..keys.principal import caller_of
from ..links.access import Caller
from ..settings import load_settings


def request_caller(app: BaseRouter) -> Caller:
    return caller_of(app.current_event.raw_event.get("requestContext") or {}, load_settings().admin_key_ids)
