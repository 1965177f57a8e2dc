"""KeysTable: one item per managed key (partition key `key_id`), holding its secret's hash only.

Keys are few (people and programs of one deployment, hundreds at most): the list is one Scan.
"""

from __future__ import annotations

from typing import Any

from ..dynamodb import ConditionFailed, Expression, Item, Update, client, every, faults, keys, plain, resume, typed
from ..errors import ShortLinkError
from ..links.access import Actor
from .model import ApiKey

# What a PATCH may change, as stored.
CHANGEABLE = ("name", "role", "team", "domains", "expires_at")


class KeyNotFound(ShortLinkError):
    status = 404
    title = "API key not found"
    slug = "key-not-found"


def to_item(key: ApiKey) -> Item:
    values: dict[str, Any] = {
        "key_id": key.id, "name": key.name, "role": key.role, "secret_hash": key.secret_hash, "created_at": key.created_at,
        "team": key.team, "domains": list(key.domains) if key.domains is not None else None, "expires_at": key.expires_at,
        "revoked_at": key.revoked_at, "created_by": key.created_by.to_body() if key.created_by else None,
        "usage_key_id": key.usage_key_id, "usage_key": key.usage_key,
    }
    return {name: typed(value) for name, value in values.items() if value is not None}


def from_item(item: Item) -> ApiKey:
    values = plain(item)
    return ApiKey(
        id=values["key_id"], name=values["name"], role=values["role"], secret_hash=values["secret_hash"],
        created_at=values["created_at"], team=values.get("team"),
        domains=tuple(values["domains"]) if values.get("domains") is not None else None,
        expires_at=values.get("expires_at"), revoked_at=values.get("revoked_at"),
        created_by=Actor.from_body(values.get("created_by")), usage_key_id=values.get("usage_key_id"),
        usage_key=values.get("usage_key"),
    )


class KeyStore:
    def __init__(self, table: str) -> None:
        self.table = table

    def add(self, key: ApiKey) -> None:
        """A new key (its id is random: a clash is refused, never overwritten)."""
        expression = Expression()
        with faults("PutItem"):
            client().put_item(TableName=self.table, Item=to_item(key), ConditionExpression=expression.absent("key_id"),
                              **expression.placeholders())

    def get(self, key_id: str) -> ApiKey:
        """The key's record (strongly consistent: a revocation that returned is seen)."""
        with faults("GetItem"):
            item = client().get_item(TableName=self.table, Key=keys(("key_id", key_id)), ConsistentRead=True).get("Item")
        if item is None:
            raise KeyNotFound(f"no API key {key_id}")
        return from_item(item)

    def all(self) -> list[ApiKey]:
        found: list[ApiKey] = []
        start: Item | None = None
        while True:
            with faults("Scan"):
                page = client().scan(TableName=self.table, ConsistentRead=True, **resume(start))
            found += [from_item(item) for item in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                return sorted(found, key=lambda key: key.created_at)

    def change(self, key_id: str, sets: dict[str, Any], removes: list[str]) -> ApiKey:
        """Change a key that exists (and is not revoked); the record as it now is."""
        expression = Expression()
        update = Update(expression)
        for name, value in sets.items():
            update.set(name, value)
        if removes:
            update.remove(*removes)
        condition = every(expression.exists("key_id"), expression.absent("revoked_at"))
        try:
            with faults("UpdateItem"):
                answer = client().update_item(TableName=self.table, Key=keys(("key_id", key_id)), UpdateExpression=update.text(),
                                              ConditionExpression=condition, ReturnValues="ALL_NEW", **expression.placeholders())
        except ConditionFailed:
            raise KeyNotFound(f"no API key {key_id} that may be changed (revoked keys stay revoked)") from None
        return from_item(answer["Attributes"])
