"""All DynamoDB access for links. Every write is conditional; every read checks expiry."""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import AliasTaken, LinkGone, LinkNotFound, StoreUnavailable
from .link import Link, link_id

logger = logging.getLogger(__name__)

# Bounded so that a request gives up inside the redirect's 5 s Lambda timeout:
# 2 attempts x (0.5 s connect + 1.5 s read) plus standard-mode backoff.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 2},
    connect_timeout=0.5,
    read_timeout=1.5,
)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def dynamodb_client() -> Any:
    """One client per container, made at the first request (importing makes no call)."""
    return boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT") or None, config=CLIENT_CONFIG)


class _ConditionFailed(Exception):
    def __init__(self, old_item: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.old_item = old_item


def _call(operation: str, **kwargs: Any) -> dict[str, Any]:
    """Run one DynamoDB operation; faults become StoreUnavailable, never a wrong 404."""
    try:
        return getattr(dynamodb_client(), operation)(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise _ConditionFailed(exc.response.get("Item")) from None
        logger.error("dynamodb %s failed: %s", operation, exc.response.get("Error", {}).get("Code"))
        raise StoreUnavailable("the link store did not answer; retry shortly") from exc
    except BotoCoreError as exc:
        logger.error("dynamodb %s failed: %s", operation, type(exc).__name__)
        raise StoreUnavailable("the link store did not answer; retry shortly") from exc


def _to_item(link: Link) -> dict[str, Any]:
    plain: dict[str, Any] = {
        "link_id": link.link_id,
        "domain": link.domain,
        "code": link.code,
        "url": link.url,
        "created_at": link.created_at,
        "updated_at": link.updated_at,
        "visits": link.visits,
        "redirect_status": link.redirect_status,
        "forward_query": link.forward_query,
        "disabled": link.disabled,
        "owner": link.owner,
        "expires_at": link.expires_at,
        "valid_since": link.valid_since,
        "max_visits": link.max_visits,
        "title": link.title,
        "tags": link.tags or None,
        "password_hash": link.password_hash,
        "targets": link.targets or None,
    }
    # Absent rather than NULL: a GSI key or the TTL attribute must not exist at all.
    return {k: _serializer.serialize(v) for k, v in plain.items() if v is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _from_item(item: dict[str, Any]) -> Link:
    data = {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}
    return Link(
        domain=data["domain"],
        code=data["code"],
        url=data["url"],
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        owner=data.get("owner"),
        expires_at=data.get("expires_at"),
        valid_since=data.get("valid_since"),
        max_visits=data.get("max_visits"),
        visits=data.get("visits", 0),
        disabled=data.get("disabled", False),
        redirect_status=data.get("redirect_status", 302),
        forward_query=data.get("forward_query", False),
        title=data.get("title"),
        tags=data.get("tags", []),
        password_hash=data.get("password_hash"),
        targets=data.get("targets", {}),
    )


def _key(domain: str, code: str) -> dict[str, Any]:
    return {"link_id": {"S": link_id(domain, code)}}


class LinkStore:
    def __init__(self, table: str) -> None:
        self.table = table

    def put_new(self, link: Link, now: int) -> None:
        """Store a new link; the code may be reused only when its old link has expired.

        Raises AliasTaken when a live link holds the code.
        """
        try:
            _call(
                "put_item",
                TableName=self.table,
                Item=_to_item(link),
                ConditionExpression="attribute_not_exists(link_id) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except _ConditionFailed:
            raise AliasTaken(f"'{link.code}' is already in use on {link.domain}") from None

    def visit(self, domain: str, code: str, now: int) -> Link:
        """Count one visit and return the link, in one conditional UpdateItem.

        The condition checks existence and expiry; on failure DynamoDB hands back the
        old item, which tells an expired link (410) from an unknown one (404).
        """
        try:
            answer = _call(
                "update_item",
                TableName=self.table,
                Key=_key(domain, code),
                UpdateExpression="ADD visits :one",
                ConditionExpression="attribute_exists(link_id) AND (attribute_not_exists(expires_at) OR expires_at > :now)",
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": str(now)}},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except _ConditionFailed as failed:
            if failed.old_item:
                raise LinkGone(f"{domain}/{code} expired") from None
            raise LinkNotFound(f"no link {domain}/{code}") from None
        return _from_item(answer["Attributes"])

    def peek(self, domain: str, code: str, now: int) -> Link:
        """Read a link without counting a visit (HEAD), with the same answers as visit()."""
        answer = _call("get_item", TableName=self.table, Key=_key(domain, code), ConsistentRead=True)
        if "Item" not in answer:
            raise LinkNotFound(f"no link {domain}/{code}")
        link = _from_item(answer["Item"])
        if link.is_expired(now):
            raise LinkGone(f"{domain}/{code} expired")
        return link
