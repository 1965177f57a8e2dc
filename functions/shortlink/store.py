"""All DynamoDB access for links. Every write is conditional; every read checks expiry."""

from __future__ import annotations

import logging
import os
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import AliasTaken, LinkNotFound, StoreUnavailable
from .link import Link, link_id

if TYPE_CHECKING:
    from .statistics import DayTotals

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
        password_failures=data.get("password_failures", 0),
        password_retry_at=data.get("password_retry_at"),
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

    def visit(self, domain: str, code: str, now: int, facts: dict[str, Any], *, count: bool = True,
              password_hash: str | None = None) -> Link:
        """Record one visit (last_visit, and the count unless it is a bot) and return the
        link, in one conditional UpdateItem. The stream carries last_visit to statistics.

        The condition holds every rule of the link (exists, not expired, valid since,
        not disabled, visit limit, password). When it fails DynamoDB hands back the
        old item, from which the caller tells why (VisitRefused) - still one request.
        """
        update = "SET last_visit = :facts" + (" ADD visits :one" if count else "")
        values = {":facts": _serializer.serialize(facts), ":now": {"N": str(now)}, ":true": {"BOOL": True}}
        if count:
            values[":one"] = {"N": "1"}
        condition = VISIT_CONDITION
        if password_hash is None:
            condition += " AND attribute_not_exists(password_hash)"
        else:
            condition += (" AND password_hash = :pw"
                          " AND (attribute_not_exists(password_retry_at) OR password_retry_at <= :now)")
            update += " REMOVE password_failures, password_retry_at"
            values[":pw"] = {"S": password_hash}
        try:
            answer = _call(
                "update_item",
                TableName=self.table,
                Key=_key(domain, code),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except _ConditionFailed as failed:
            if failed.old_item:
                raise VisitRefused(_from_item(failed.old_item)) from None
            raise LinkNotFound(f"no link {domain}/{code}") from None
        return _from_item(answer["Attributes"])

    def get(self, domain: str, code: str) -> Link:
        """The stored link, whatever its state (one strongly consistent GetItem)."""
        answer = _call("get_item", TableName=self.table, Key=_key(domain, code), ConsistentRead=True)
        if "Item" not in answer:
            raise LinkNotFound(f"no link {domain}/{code}")
        return _from_item(answer["Item"])

    def note_password_failure(self, link: Link, retry_at: int) -> None:
        """Count a wrong password and refuse further tries until retry_at."""
        try:
            _call(
                "update_item",
                TableName=self.table,
                Key=_key(link.domain, link.code),
                UpdateExpression="ADD password_failures :one SET password_retry_at = :retry",
                ConditionExpression="attribute_exists(password_hash)",
                ExpressionAttributeValues={":one": {"N": "1"}, ":retry": {"N": str(retry_at)}},
            )
        except _ConditionFailed:
            pass  # the password was removed meanwhile: nothing left to throttle

    def get_owned(self, domain: str, code: str, owner: str) -> Link:
        link = self.get(domain, code)
        if link.owner != owner:
            raise LinkNotFound(f"no link {domain}/{code}")  # another owner's link does not exist for you
        return link

    def list_owned(self, owner: str, limit: int, start: dict[str, str] | None) -> tuple[list[Link], dict[str, str] | None]:
        """One page of the owner's links, newest first, from the by_owner index."""
        kwargs: dict[str, Any] = {}
        if start:
            kwargs["ExclusiveStartKey"] = {
                "link_id": {"S": start["link_id"]}, "created_at": {"S": start["created_at"]}, "owner": {"S": owner},
            }
        answer = _call(
            "query",
            TableName=self.table,
            IndexName="by_owner",
            KeyConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
            ScanIndexForward=False,
            Limit=limit,
            **kwargs,
        )
        last = answer.get("LastEvaluatedKey")
        next_start = {"link_id": last["link_id"]["S"], "created_at": last["created_at"]["S"]} if last else None
        return [_from_item(item) for item in answer.get("Items", [])], next_start

    def update_owned(self, domain: str, code: str, owner: str, sets: dict[str, Any], removes: list[str]) -> Link:
        """Apply a PATCH in one UpdateItem, only if the link exists and belongs to owner."""
        names = {"#owner": "owner"}
        values: dict[str, Any] = {":owner": {"S": owner}}
        parts = []
        for i, (name, value) in enumerate(sets.items()):
            names[f"#s{i}"], values[f":s{i}"] = name, _serializer.serialize(value)
            parts.append(f"#s{i} = :s{i}")
        expression = "SET " + ", ".join(parts)
        if removes:
            names.update({f"#r{i}": name for i, name in enumerate(removes)})
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        try:
            answer = _call(
                "update_item",
                TableName=self.table,
                Key=_key(domain, code),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(link_id) AND #owner = :owner",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except _ConditionFailed:
            raise LinkNotFound(f"no link {domain}/{code}") from None
        return _from_item(answer["Attributes"])

    def delete_owned(self, domain: str, code: str, owner: str) -> None:
        try:
            _call(
                "delete_item",
                TableName=self.table,
                Key=_key(domain, code),
                ConditionExpression="attribute_exists(link_id) AND #owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except _ConditionFailed:
            raise LinkNotFound(f"no link {domain}/{code}") from None


class VisitRefused(Exception):
    """The link exists but one of its rules refused this visit; `link` says which."""

    def __init__(self, link: Link) -> None:
        super().__init__(link.link_id)
        self.link = link


# Every rule a visit must pass, checked by DynamoDB in the same request that counts it.
VISIT_CONDITION = (
    "attribute_exists(link_id)"
    " AND (attribute_not_exists(expires_at) OR expires_at > :now)"
    " AND (attribute_not_exists(valid_since) OR valid_since <= :now)"
    " AND (attribute_not_exists(disabled) OR disabled <> :true)"
    " AND (attribute_not_exists(max_visits) OR visits < max_visits)"
)


class StatsStore:
    """Per-day visit counters of links (StatsTable): one row per (link life, UTC day)."""

    def __init__(self, table: str) -> None:
        self.table = table

    def day_progress(self, key: str, day: str) -> tuple[int, set[str]]:
        """(highest visit number already added, referrer hosts the row already has)."""
        answer = _call("get_item", TableName=self.table, Key={"link_key": {"S": key}, "day": {"S": day}},
                       ConsistentRead=True, ProjectionExpression="upto, hosts")
        item = answer.get("Item", {})
        return int(item.get("upto", {"N": "0"})["N"]), set(item.get("hosts", {}).get("SS", []))

    def add_day(self, key: str, day: str, read_upto: int, totals: DayTotals, referrers: dict[str, int], expires_at: int) -> bool:
        """Add totals to the day row if nobody added visits since read_upto; False otherwise."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":upto": {"N": str(totals.last)}, ":exp": {"N": str(expires_at)},
                                  ":total": {"N": str(totals.total)}, ":read": {"N": str(read_upto)}}
        adds = ["#total :total"]
        names["#total"] = "total"
        counters = [("platform", totals.platforms), ("app", totals.apps), ("referrer", referrers)]
        for kind, counts in counters:
            for label, n in counts.items():
                i = len(names)
                names[f"#c{i}"], values[f":c{i}"] = f"{kind}:{label}", {"N": str(n)}
                adds.append(f"#c{i} :c{i}")
        hosts = sorted(h for h in referrers if not h.startswith("("))
        if hosts:
            adds.append("hosts :hosts")
            values[":hosts"] = {"SS": hosts}
        try:
            _call(
                "update_item",
                TableName=self.table,
                Key={"link_key": {"S": key}, "day": {"S": day}},
                UpdateExpression="SET upto = :upto, expires_at = :exp ADD " + ", ".join(adds),
                ConditionExpression="attribute_not_exists(upto) OR upto = :read",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except _ConditionFailed:
            return False
        return True

    def days(self, key: str, first: str, last: str) -> dict[str, dict[str, Any]]:
        """The rows of one link between two days (inclusive), by day."""
        rows: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {}
        while True:
            answer = _call(
                "query",
                TableName=self.table,
                KeyConditionExpression="link_key = :k AND #day BETWEEN :a AND :b",
                ExpressionAttributeNames={"#day": "day"},
                ExpressionAttributeValues={":k": {"S": key}, ":a": {"S": first}, ":b": {"S": last}},
                **kwargs,
            )
            for item in answer.get("Items", []):
                row = {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}
                rows[row["day"]] = row
            if "LastEvaluatedKey" not in answer:
                return rows
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
