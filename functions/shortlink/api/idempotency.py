"""Idempotency-Key for creates (Powertools Idempotency on its own DynamoDB table).

The same key and body gives the first answer again; the same key with another body
is refused. Keys are scoped to the API key that sent them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from ..dynamodb import client
from ..errors import ConfigError, InvalidInput, ShortLinkError, StoreUnavailable
from ..instance import kept

MAX_KEY_LENGTH = 255
CONFIG = IdempotencyConfig(
    event_key_jmespath="[owner, key]",
    payload_validation_jmespath="body",
    expires_after_seconds=24 * 3600,
)


class RequestInProgress(ShortLinkError):
    status = 409
    title = "Request in progress"
    slug = "request-in-progress"
    retry_after_seconds = 1


@kept
@cache
def _persistence() -> DynamoDBPersistenceLayer:
    table = os.environ.get("IDEMPOTENCY_TABLE", "").strip()
    if not table:
        raise ConfigError("environment variable IDEMPOTENCY_TABLE is not set (template.yaml sets it)")
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=client())


def once_per_key(key: str | None, owner: str | None, body: Any, produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run produce() once per (owner, key); replays get its stored answer."""
    if key is None:
        return produce()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidInput.single("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=CONFIG)
    def run(request: dict[str, Any]) -> dict[str, Any]:
        return produce()

    try:
        answer: dict[str, Any] = run(request={"owner": owner or "anonymous", "key": key, "body": body})
        return answer
    except IdempotencyValidationError:
        raise InvalidInput.single("Idempotency-Key", "was already used with a different body") from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgress("a request with this Idempotency-Key is still running; retry shortly") from None
    except IdempotencyPersistenceLayerError as exc:
        raise StoreUnavailable("the idempotency store did not answer; retry shortly") from exc


def register_context(context: Any) -> None:
    """Lets Powertools expire an in-progress record when the invocation times out."""
    CONFIG.register_lambda_context(context)
