"""The one place that talks to DynamoDB: the client, faults as StoreUnavailable, and the
conversion between plain Python values and DynamoDB's typed attribute values."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from typing import Any, cast

import boto3
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import StoreUnavailable

logger = logging.getLogger(__name__)

# Bounded so that a request gives up well inside the redirect's 5 s Lambda timeout (and
# API Gateway's 29 s): 2 attempts x (0.5 s connect + 1 s read) + at most 1 s of
# standard-mode backoff = 4 s at worst. DynamoDB answers in milliseconds when healthy.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 2},
    connect_timeout=0.5,
    read_timeout=1.0,
)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def dynamodb_client() -> Any:
    """One client per container, made at the first request (importing makes no call)."""
    return boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT") or None, config=CLIENT_CONFIG)


class ConditionFailed(Exception):
    """A conditional write was refused; `old_item` is the item as it was, when asked for."""

    def __init__(self, old_item: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.old_item = old_item


def call(operation: str, **kwargs: Any) -> dict[str, Any]:
    """Run one DynamoDB operation; faults become StoreUnavailable, never a wrong 404."""
    try:
        answer: dict[str, Any] = getattr(dynamodb_client(), operation)(**kwargs)
        return answer
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailed(cast("dict[str, Any] | None", exc.response.get("Item"))) from None
        logger.error("dynamodb %s failed: %s", operation, exc.response.get("Error", {}).get("Code"))
        raise StoreUnavailable("the store did not answer; retry shortly") from exc
    except BotoCoreError as exc:
        logger.error("dynamodb %s failed: %s", operation, type(exc).__name__)
        raise StoreUnavailable("the store did not answer; retry shortly") from exc


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a Query finds (typed), page after page."""
    while True:
        answer = call("query", **kwargs)
        yield from answer.get("Items", [])
        if "LastEvaluatedKey" not in answer:
            return
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def is_ttl_removal(record: dict[str, Any]) -> bool:
    """A stream record of an item TTL deleted (not a caller's DeleteItem)."""
    identity = record.get("userIdentity") or {}
    return (record.get("eventName") == "REMOVE" and identity.get("type") == "Service"
            and identity.get("principalId") == "dynamodb.amazonaws.com")


def typed(value: Any) -> dict[str, Any]:
    """A plain value as a DynamoDB attribute value ({"S": ...}, {"N": ...}, ...). Strings, whole
    numbers, flags and maps of them (a visit's facts, on the redirect's path) directly; anything
    else by boto3's serializer, a tenth of the speed."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {name: typed(inner) for name, inner in value.items()}}
    return cast("dict[str, Any]", _serializer.serialize(value))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, Binary):
        return bytes(value)  # type: ignore[call-overload]  # Binary defines __bytes__; its stubs do not say
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def plain(attributes: dict[str, Any]) -> dict[str, Any]:
    """An item's typed attributes as plain Python values (numbers as int: we store no fractions)."""
    return {name: _plain(_deserializer.deserialize(value)) for name, value in attributes.items()}
