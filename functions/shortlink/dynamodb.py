"""The one place that talks to DynamoDB: the client (typed by mypy-boto3-dynamodb's stubs), faults
as StoreUnavailable (never a wrong 404) or ConditionFailed, expressions built with their
placeholders, and the conversion between plain Python values and DynamoDB's attribute values.

The client takes its endpoint from botocore's own configuration (AWS_ENDPOINT_URL_DYNAMODB),
which is how the devserver points it at the embedded store; nothing here knows about that.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, cast

import boto3
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .errors import StoreUnavailable
from .instance import kept

if TYPE_CHECKING:
    from typing import Unpack

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
    )

Item: TypeAlias = "dict[str, AttributeValueTypeDef]"  # an item, or a key, as DynamoDB's API carries it

logger = logging.getLogger(__name__)

# Bounded so that a request gives up at least a second inside the redirect's 5 s Lambda timeout
# (and API Gateway's 29 s): 2 attempts in all (botocore's total_max_attempts; its max_attempts
# would count retries, one attempt more) x (0.5 s connect + 1 s read) + at most 1 s of
# standard-mode backoff = 4 s at worst, 3 s against a store that accepts and never answers. A
# handler stops at its first fault, so that is its worst too. DynamoDB answers in milliseconds.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2},
    connect_timeout=0.5,
    read_timeout=1.0,
)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@kept
@cache
def client() -> DynamoDBClient:
    """One client per instance, made at the first request (importing makes no call)."""
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


class ConditionFailed(Exception):
    """A conditional write was refused; `old_item` is the item as it was, when asked for;
    `action`: in a transaction, which of its actions was refused (its index)."""

    def __init__(self, old_item: Item | None, action: int = 0) -> None:
        super().__init__("condition failed")
        self.old_item = old_item
        self.action = action


class InTransaction(StoreUnavailable):
    """A single-item write met a transaction in progress on the item (TransactionConflict)."""


@contextmanager
def faults(operation: str) -> Iterator[None]:
    """Around one request: a refused condition becomes ConditionFailed; any other fault
    StoreUnavailable, so that a fault is never taken for an answer."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(cast("Item | None", exc.response.get("Item"))) from None
        # A transaction refused by a condition (its one conditional action); any other reason
        # (a conflicting write, a throttle) is a fault like any other.
        reasons = cast("list[dict[str, Any]]", exc.response.get("CancellationReasons") or [])
        refused = [n for n, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"]
        if code == "TransactionCanceledException" and refused:
            raise ConditionFailed(cast("Item | None", reasons[refused[0]].get("Item")), refused[0]) from None
        if code == "TransactionConflictException":
            raise InTransaction("the item is being changed; retry shortly") from exc
        logger.error("dynamodb %s failed: %s", operation, exc.response.get("Error", {}).get("Code"))
        raise StoreUnavailable("the store did not answer; retry shortly") from exc
    except BotoCoreError as exc:
        logger.error("dynamodb %s failed: %s", operation, type(exc).__name__)
        raise StoreUnavailable("the store did not answer; retry shortly") from exc


class Placeholders(TypedDict, total=False):
    """What an expression's placeholders stand for (each map only when it holds something:
    DynamoDB refuses an empty one)."""

    ExpressionAttributeNames: dict[str, str]
    ExpressionAttributeValues: dict[str, AttributeValueTypeDef]


class Resume(TypedDict, total=False):
    """Where a Query or Scan goes on from (nothing: from the start)."""

    ExclusiveStartKey: Item


def resume(key: Item | None) -> Resume:
    return {"ExclusiveStartKey": key} if key else {}


class Expression:
    """The expressions of one request (update, condition, key condition, filter, projection) and
    their placeholders: every attribute name goes in as #n…, every value as :v…, typed, so that
    names never clash with DynamoDB's reserved words and no value is spliced into text."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, AttributeValueTypeDef] = {}

    def name(self, attribute: str) -> str:
        """The placeholder of an attribute's name (any characters: 'referrer:weibo.com')."""
        for placeholder, known in self._names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self._names)}"
        self._names[placeholder] = attribute
        return placeholder

    def member(self, attribute: str, key: str) -> str:
        """The path of one member of a map attribute (guard.n)."""
        return f"{self.name(attribute)}.{self.name(key)}"

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = typed(value)
        return placeholder

    def stored(self, value: AttributeValueTypeDef) -> str:
        """The placeholder of a value already typed (an attribute of an item read or built)."""
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = value
        return placeholder

    def exists(self, attribute: str) -> str:
        return f"attribute_exists({self.name(attribute)})"

    def absent(self, attribute: str) -> str:
        return f"attribute_not_exists({self.name(attribute)})"

    def compare(self, attribute: str, operator: str, value: Any) -> str:
        return f"{self.name(attribute)} {operator} {self.value(value)}"

    def placeholders(self) -> Placeholders:
        found: Placeholders = {}
        if self._names:
            found["ExpressionAttributeNames"] = dict(self._names)
        if self._values:
            found["ExpressionAttributeValues"] = dict(self._values)
        return found


def every(*conditions: str) -> str:
    """All of the conditions (each kept whole in parentheses)."""
    return " AND ".join(f"({c})" for c in conditions if c)


def either(*conditions: str) -> str:
    return " OR ".join(f"({c})" for c in conditions if c)


class Update:
    """An UpdateExpression: SET, ADD and REMOVE clauses with their placeholders in `expression`."""

    def __init__(self, expression: Expression) -> None:
        self.expression = expression
        self._sets: list[str] = []
        self._adds: list[str] = []
        self._removes: list[str] = []

    def set(self, attribute: str, value: Any) -> Update:
        return self.set_to(attribute, self.expression.value(value))

    def set_to(self, attribute: str, operand: str) -> Update:
        """SET attribute = an operand built with the expression (if_absent, a sum …)."""
        self._sets.append(f"{self.expression.name(attribute)} = {operand}")
        return self

    def if_absent(self, attribute: str, value: Any) -> str:
        """The operand: the attribute's value, or `value` when it has none."""
        return f"if_not_exists({self.expression.name(attribute)}, {self.expression.value(value)})"

    def add(self, attribute: str, value: Any) -> Update:
        """ADD a number to a number (absent: 0) or members to a set."""
        self._adds.append(f"{self.expression.name(attribute)} {self.expression.value(value)}")
        return self

    def remove(self, *attributes: str) -> Update:
        self._removes += [self.expression.name(attribute) for attribute in attributes]
        return self

    def text(self) -> str:
        clauses = [("SET", self._sets), ("ADD", self._adds), ("REMOVE", self._removes)]
        return " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts)


def action(kind: str, **request: Any) -> TransactWriteItemTypeDef:
    """One action of a TransactWriteItems: kind "Put", "Update", "Delete" or "ConditionCheck",
    with the fields its request would have (TableName, Key, expressions, placeholders)."""
    return cast("TransactWriteItemTypeDef", {kind: request})


def query_all(**request: Unpack[QueryInputTypeDef]) -> Iterator[Item]:
    """Every item a Query finds (typed), page after page."""
    while True:
        with faults("Query"):
            answer = client().query(**request)
        yield from answer.get("Items", [])
        if "LastEvaluatedKey" not in answer:
            return
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def is_ttl_removal(record: Mapping[str, Any]) -> bool:
    """A stream record of an item TTL deleted (not a caller's DeleteItem)."""
    identity = record.get("userIdentity") or {}
    return (record.get("eventName") == "REMOVE" and identity.get("type") == "Service"
            and identity.get("principalId") == "dynamodb.amazonaws.com")


def typed(value: Any) -> AttributeValueTypeDef:
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
    return _serializer.serialize(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, Binary):
        return bytes(value)  # type: ignore[call-overload]  # the stubs give Binary.__bytes__ a str
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def plain(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """An item's typed attributes as plain Python values (numbers as int: we store no fractions)."""
    return {name: _plain(_deserializer.deserialize(value)) for name, value in attributes.items()}


def keys(*values: tuple[str, str]) -> Item:
    """A key of string attributes: keys(("link_key", life), ("hour", hour))."""
    return {name: {"S": value} for name, value in values}


def chunks(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


BATCH_GET_MAX = 100  # keys in one BatchGetItem
BATCH_WRITE_MAX = 25  # requests in one BatchWriteItem
_BATCH_ROUNDS = 3  # a batch's unprocessed part is sent again this often before it is a fault


def get_many(table: str, wanted: Iterable[Item], *, consistent: bool = False, projection: str | None = None,
             names: dict[str, str] | None = None) -> list[Item]:
    """The items of these keys that exist (in no particular order): BatchGetItem per 100 keys,
    its unprocessed keys asked again; keys still unread are a fault, never taken for absent."""
    found: list[Item] = []
    shape: dict[str, Any] = {"ConsistentRead": consistent}
    if projection:
        shape["ProjectionExpression"] = projection
    if names:
        shape["ExpressionAttributeNames"] = names
    for part in chunks(wanted, BATCH_GET_MAX):
        for _ in range(_BATCH_ROUNDS):
            with faults("BatchGetItem"):
                answer = client().batch_get_item(RequestItems={table: cast("KeysAndAttributesTypeDef", {"Keys": part, **shape})})
            found += answer["Responses"].get(table, [])
            unread = answer.get("UnprocessedKeys", {}).get(table)
            part = list(unread["Keys"]) if unread else []
            if not part:
                break
        if part:
            raise StoreUnavailable(f"{table} left keys unread; retry shortly")
    return found


def write_many(table: str, puts: Iterable[Item] = (), deletes: Iterable[Item] = ()) -> None:
    """Put these items and delete these keys: BatchWriteItem per 25, its unprocessed part sent
    again (each write is whole and idempotent: sent twice, it is the same)."""
    requests: list[Any] = [{"PutRequest": {"Item": item}} for item in puts]
    requests += [{"DeleteRequest": {"Key": key}} for key in deletes]
    for part in chunks(requests, BATCH_WRITE_MAX):
        for _ in range(_BATCH_ROUNDS):
            with faults("BatchWriteItem"):
                answer = client().batch_write_item(RequestItems={table: part})
            part = list(answer.get("UnprocessedItems", {}).get(table, []))
            if not part:
                break
        if part:
            raise StoreUnavailable(f"{table} left writes undone; retry shortly")
