"""The links table: every write is conditional; every read checks expiry (the callers' rules)."""

from __future__ import annotations

import dataclasses
from contextlib import suppress
from typing import Any

from ..dynamodb import ConditionFailed, call, plain, typed
from ..errors import AliasTaken, LinkNotFound
from .identity import LinkId
from .model import Link

_ATTRIBUTES = tuple(f.name for f in dataclasses.fields(Link))


def to_item(link: Link) -> dict[str, Any]:
    """The stored item: every attribute of the model, by the same name, plus the key."""
    values = {name: getattr(link, name) for name in _ATTRIBUTES}
    # Absent rather than NULL or empty: a GSI key or the TTL attribute must not exist at all.
    return {"link_id": typed(link.id.key), **{k: typed(v) for k, v in values.items() if v not in (None, [], {})}}


def from_item(item: dict[str, Any]) -> Link:
    data = plain(item)
    return Link(**{name: data[name] for name in _ATTRIBUTES if name in data})


def _key(link_id: LinkId) -> dict[str, Any]:
    return {"link_id": {"S": link_id.key}}


class LinkStore:
    """The links table (LinksTable), one conditional request per operation."""

    def __init__(self, table: str) -> None:
        self.table = table

    def put_new(self, link: Link, now: int) -> None:
        """Store a new link; the code may be reused only when its old link has expired.

        Raises AliasTaken when a live link holds the code.
        """
        try:
            call(
                "put_item",
                TableName=self.table,
                Item=to_item(link),
                ConditionExpression="attribute_not_exists(link_id) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ConditionFailed:
            raise AliasTaken(f"'{link.code}' is already in use on {link.domain}") from None

    def visit(self, link_id: LinkId, now: int, facts: dict[str, Any], *, count: bool = True,
              password_hash: str | None = None) -> Link:
        """Record one visit (last_visit, and the count unless it is a bot) and return the
        link, in one conditional UpdateItem. The stream carries last_visit to statistics.

        The condition holds every rule of the link (exists, not expired, valid since,
        not disabled, visit limit, password). When it fails DynamoDB hands back the
        old item, from which the caller tells why (VisitRefused) - still one request.
        """
        update = "SET last_visit = :facts" + (" ADD visits :one" if count else "")
        values = {":facts": typed(facts), ":now": {"N": str(now)}, ":true": {"BOOL": True}}
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
            answer = call(
                "update_item",
                TableName=self.table,
                Key=_key(link_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            if failed.old_item:
                raise VisitRefused(from_item(failed.old_item)) from None
            raise LinkNotFound(f"no link {link_id}") from None
        return from_item(answer["Attributes"])

    def get(self, link_id: LinkId) -> Link:
        """The stored link, whatever its state (one strongly consistent GetItem)."""
        answer = call("get_item", TableName=self.table, Key=_key(link_id), ConsistentRead=True)
        if "Item" not in answer:
            raise LinkNotFound(f"no link {link_id}")
        return from_item(answer["Item"])

    def note_password_failure(self, link: Link, retry_at: int) -> None:
        """Count a wrong password and refuse further tries until retry_at."""
        with suppress(ConditionFailed):  # the password was removed meanwhile: nothing left to throttle
            call(
                "update_item",
                TableName=self.table,
                Key=_key(link.id),
                UpdateExpression="ADD password_failures :one SET password_retry_at = :retry",
                ConditionExpression="attribute_exists(password_hash)",
                ExpressionAttributeValues={":one": {"N": "1"}, ":retry": {"N": str(retry_at)}},
            )

    def get_owned(self, link_id: LinkId, owner: str) -> Link:
        link = self.get(link_id)
        if link.owner != owner:
            raise LinkNotFound(f"no link {link_id}")  # another owner's link does not exist for you
        return link

    def list_owned(self, owner: str, limit: int, start: dict[str, str] | None) -> tuple[list[Link], dict[str, str] | None]:
        """One page of the owner's links, newest first, from the by_owner index."""
        kwargs: dict[str, Any] = {}
        if start:
            kwargs["ExclusiveStartKey"] = {
                "link_id": {"S": start["link_id"]}, "created_at": {"S": start["created_at"]}, "owner": {"S": owner},
            }
        answer = call(
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
        return [from_item(item) for item in answer.get("Items", [])], next_start

    def update_owned(self, link_id: LinkId, owner: str, sets: dict[str, Any], removes: list[str]) -> Link:
        """Apply a PATCH in one UpdateItem, only if the link exists and belongs to owner."""
        names = {"#owner": "owner"}
        values: dict[str, Any] = {":owner": {"S": owner}}
        parts = []
        for i, (name, value) in enumerate(sets.items()):
            names[f"#s{i}"], values[f":s{i}"] = name, typed(value)
            parts.append(f"#s{i} = :s{i}")
        expression = "SET " + ", ".join(parts)
        if removes:
            names.update({f"#r{i}": name for i, name in enumerate(removes)})
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        try:
            answer = call(
                "update_item",
                TableName=self.table,
                Key=_key(link_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(link_id) AND #owner = :owner",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            raise LinkNotFound(f"no link {link_id}") from None
        return from_item(answer["Attributes"])

    def delete_owned(self, link_id: LinkId, owner: str) -> None:
        try:
            call(
                "delete_item",
                TableName=self.table,
                Key=_key(link_id),
                ConditionExpression="attribute_exists(link_id) AND #owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ConditionFailed:
            raise LinkNotFound(f"no link {link_id}") from None


class VisitRefused(Exception):
    """The link exists but one of its rules refused this visit; `link` says which."""

    def __init__(self, link: Link) -> None:
        super().__init__(str(link.id))
        self.link = link


# Every rule a visit must pass, checked by DynamoDB in the same request that counts it.
VISIT_CONDITION = (
    "attribute_exists(link_id)"
    " AND (attribute_not_exists(expires_at) OR expires_at > :now)"
    " AND (attribute_not_exists(valid_since) OR valid_since <= :now)"
    " AND (attribute_not_exists(disabled) OR disabled <> :true)"
    " AND (attribute_not_exists(max_visits) OR visits < max_visits)"
)


