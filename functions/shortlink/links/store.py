"""The links table: every write is conditional; every read checks expiry (the callers' rules)."""

from __future__ import annotations

import dataclasses
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from ..dynamodb import ConditionFailed, call, plain, query_all, typed
from ..errors import AliasTaken, LinkNotFound, StoreUnavailable
from .access import Caller
from .counters import COUNTER_IDLE
from .expiry import expiry_slot
from .identity import LinkId
from .model import Link

_ATTRIBUTES = tuple(f.name for f in dataclasses.fields(Link))


def to_item(link: Link) -> dict[str, Any]:
    """The stored item: every attribute of the model, by the same name, plus the key."""
    values = {name: getattr(link, name) for name in _ATTRIBUTES}
    if link.expires_at is not None:
        values[EXPIRY_SLOT] = expiry_slot(link.id, link.expires_at)
    # Absent rather than NULL or empty: a GSI key or the TTL attribute must not exist at all.
    return {"link_id": typed(link.id.key), **{k: typed(v) for k, v in values.items() if v not in (None, [], {})}}


def from_item(item: dict[str, Any]) -> Link:
    data = plain(item)
    return Link(**{name: data[name] for name in _ATTRIBUTES if name in data})


GUARD_PREFIX = "guard:"
EXPIRY_SLOT = "expiry_slot"  # key of the by_expiry index (links/expiry.py)
EXPIRED_NOTICE = "expired_notice"  # the expires_at the sweep announced


@dataclass(frozen=True)
class Guard:
    """One visitor's password back-off on one link: wrong guesses so far, and when the next may
    come (epoch milliseconds)."""

    n: int
    at: int


@dataclass(frozen=True)
class Fold:
    """A link's counters' tally (visits counted on them in this life) and the part of it already
    in the item's visits (tally_base)."""

    tally: int
    base: int


@dataclass(frozen=True)
class Unlock:
    """A password checked right for a visitor: the hash the visit's condition compares."""

    password_hash: str
    visitor: str


def guard_attribute(visitor: str) -> str:
    return GUARD_PREFIX + visitor


def _key(link_id: LinkId) -> dict[str, Any]:
    return {"link_id": {"S": link_id.key}}


class LinkStore:
    """The links table (LinksTable), one conditional request per operation."""

    def __init__(self, table: str) -> None:
        self.table = table

    def put_new(self, link: Link, now: int) -> None:
        """Store a new link; the code may be reused only when its old link has expired.

        Exactly once: the link carries its request's create_token, so when botocore retries a
        PutItem whose answer was lost, the retry recognises the first write as its own (the
        condition fails, and the item it hands back holds the same token). When no answer comes
        at all, one consistent read tells whether the write landed. Raises AliasTaken when
        another live link holds the code, StoreUnavailable when nothing is known to be stored.
        """
        assert link.create_token, "a new link carries its request's token"
        try:
            call(
                "put_item",
                TableName=self.table,
                Item=to_item(link),
                ConditionExpression="attribute_not_exists(link_id) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            if not (failed.old_item and plain(failed.old_item).get("create_token") == link.create_token):
                raise AliasTaken(f"'{link.code}' is already in use on {link.domain}") from None
        except StoreUnavailable:
            with suppress(StoreUnavailable, LinkNotFound):
                if self.get(link.id).create_token == link.create_token:
                    return  # it landed; only the answers were lost
            raise

    def visit(self, link_id: LinkId, now: int, facts: dict[str, Any], *, count: bool = True,
              password: Unlock | None = None) -> Link:
        """Record one visit (last_visit, and visits or, for a bot, bot_visits) and return the
        link, in one conditional UpdateItem. The stream carries last_visit to statistics.

        The condition holds every rule of the link (exists, not expired, valid since,
        not disabled, visit limit, password). When it fails DynamoDB hands back the
        old item, from which the caller tells why (VisitRefused) - still one request.
        With `password` (a checked, right one) the visitor's back-off is forgiven and the
        guess given back to the link's count.
        """
        # Bots are numbered apart, so that the statistics can tell a replayed bot visit too.
        update = "SET last_visit = :facts ADD " + ("visits" if count else "bot_visits") + " :one"
        values = {":facts": typed(facts), ":now": {"N": str(now)}, ":true": {"BOOL": True}, ":one": {"N": "1"}}
        names: dict[str, str] = {}
        condition = VISIT_CONDITION
        if password is None:
            condition += " AND attribute_not_exists(password_hash)"
        else:
            condition += " AND password_hash = :pw"
            values[":pw"] = {"S": password.password_hash}
            update += ", guess_count :minus REMOVE #guard"
            values[":minus"] = {"N": "-1"}
            names["#guard"] = guard_attribute(password.visitor)
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
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ConditionFailed as failed:
            if failed.old_item:
                raise VisitRefused(from_item(failed.old_item)) from None
            raise LinkNotFound(f"no link {link_id}") from None
        return from_item(answer["Attributes"])

    def count_visit(self, link: Link, counter: int, now: int, facts: dict[str, Any], *, count: bool = True) -> None:
        """Record one visit of a link without rules to check (links/counters.py) on one of its
        visit counters: one unconditional UpdateItem, never on the link's own item. The counter
        carries the link's life (created_at) and expiry for the statistics, and lives on
        COUNTER_IDLE after its last visit."""
        values = {":facts": typed(facts), ":created": {"S": link.created_at}, ":now": {"N": str(now)},
                  ":idle": {"N": str(now + COUNTER_IDLE)}, ":one": {"N": "1"}}
        update = "SET last_visit = :facts, created_at = :created, born = if_not_exists(born, :now), expires_at = :idle"
        if link.expires_at is not None:
            update += ", link_expires_at = :link_expires"
            values[":link_expires"] = {"N": str(link.expires_at)}
        call("update_item", TableName=self.table, Key={"link_id": {"S": link.id.counter_key(counter)}},
             UpdateExpression=update + " ADD " + ("visits" if count else "bot_visits") + " :one",
             ExpressionAttributeValues=values)

    def _item(self, link_id: LinkId, consistent: bool = True) -> dict[str, Any]:
        answer = call("get_item", TableName=self.table, Key=_key(link_id), ConsistentRead=consistent)
        if "Item" not in answer:
            raise LinkNotFound(f"no link {link_id}")
        item: dict[str, Any] = answer["Item"]
        return item

    def get(self, link_id: LinkId) -> Link:
        """The stored link, whatever its state (one strongly consistent GetItem)."""
        return from_item(self._item(link_id))

    def read_copy(self, link_id: LinkId) -> Link:
        """The link for a redirect's copy (links/cache.py): an eventually consistent GetItem (half
        the read units; at most a second behind a change, inside the copy's own bound), and a
        strongly consistent one only when that finds nothing, so a link made a moment ago is
        never a false 404."""
        try:
            return from_item(self._item(link_id, consistent=False))
        except LinkNotFound:
            return self.get(link_id)

    def get_with_guards(self, link_id: LinkId) -> tuple[Link, dict[str, Guard]]:
        """The stored link and its visitors' password back-offs (one strongly consistent GetItem)."""
        item = self._item(link_id)
        guards = {name[len(GUARD_PREFIX):]: Guard(**plain(value["M"])) for name, value in item.items()
                  if name.startswith(GUARD_PREFIX) and "M" in value}
        return from_item(item), guards

    def claim_guess(self, link: Link, visitor: str, guard: Guard | None, now: int, *, retry_at: int,
                    ceiling: int, forget: list[str]) -> bool:
        """Take the right to check one password guess, atomically: only while the visitor's back-off
        is what was read (so of parallel guesses one wins) and the link's guesses this minute are
        under `ceiling`. Sets the visitor's next back-off before the guess is checked, and removes
        the `forget` visitors' old back-offs. False when someone else claimed first."""
        window = now // 60
        names = {"#guard": guard_attribute(visitor), **{f"#f{i}": guard_attribute(v) for i, v in enumerate(forget)}}
        values: dict[str, Any] = {":pw": {"S": link.password_hash or ""}, ":window": {"N": str(window)},
                                  ":one": {"N": "1"}, ":guard": typed({"n": (guard.n if guard else 0) + 1, "at": retry_at})}
        if link.guess_window == window:
            update = "SET #guard = :guard ADD guess_count :one"
            condition = "guess_window = :window AND guess_count < :ceiling"
            values[":ceiling"] = {"N": str(ceiling)}
        else:
            update = "SET #guard = :guard, guess_window = :window, guess_count = :one"
            condition = "(attribute_not_exists(guess_window) OR guess_window < :window)"
        if guard is None:
            condition += " AND attribute_not_exists(#guard)"
        else:
            condition += " AND #guard.n = :n"
            values[":n"] = {"N": str(guard.n)}
        if forget:
            update += " REMOVE " + ", ".join(f"#f{i}" for i in range(len(forget)))
        try:
            call(
                "update_item",
                TableName=self.table,
                Key=_key(link.id),
                UpdateExpression=update,
                ConditionExpression="password_hash = :pw AND " + condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ConditionFailed:
            return False
        return True

    def get_owned(self, link_id: LinkId, caller: Caller) -> Link:
        link = self.get(link_id)
        if not caller.may_see(link):
            raise LinkNotFound(f"no link {link_id}")  # another owner's link does not exist for you
        return link

    def list_all(self, limit: int, start: dict[str, str] | None) -> tuple[list[Link], dict[str, str] | None]:
        """One page of every link, in the table's order (operators): a Scan, so it reads the
        whole table page by page; there is no index of all links to keep hot."""
        kwargs: dict[str, Any] = {"ExclusiveStartKey": {"link_id": {"S": start["link_id"]}}} if start else {}
        # Visit counters share the table; they have no code.
        answer = call("scan", TableName=self.table, Limit=limit, FilterExpression="attribute_exists(code)", **kwargs)
        last = answer.get("LastEvaluatedKey")
        next_start = {"link_id": last["link_id"]["S"], "created_at": ""} if last else None
        return [from_item(item) for item in answer.get("Items", [])], next_start

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

    def update_owned(self, link_id: LinkId, caller: Caller, sets: dict[str, Any], removes: list[str], *,
                     fold: Fold | None = None) -> Link:
        """Apply a PATCH in one UpdateItem, only if the link exists and the caller may change it.
        A new expiry moves the link in the by_expiry index; none takes it out. With `fold`, the
        visits its counters counted since the last fold join the item's own (a visit limit
        counts them), in the same write."""
        if "expires_at" in sets:
            sets = {**sets, EXPIRY_SLOT: expiry_slot(link_id, sets["expires_at"])}
        if "expires_at" in removes:
            removes = [*removes, EXPIRY_SLOT]
        condition, names, values = _may_change(caller)
        parts = []
        for i, (name, value) in enumerate(sets.items()):
            names[f"#s{i}"], values[f":s{i}"] = name, typed(value)
            parts.append(f"#s{i} = :s{i}")
        if fold is not None and fold.tally > fold.base:
            parts.append("tally_base = :tally, visits = if_not_exists(visits, :zero) + :folded")
            values.update({":tally": {"N": str(fold.tally)}, ":zero": {"N": "0"}, ":folded": {"N": str(fold.tally - fold.base)}})
            # Two PATCHes folding at once would both add: the second finds the base moved.
            condition += " AND (attribute_not_exists(tally_base) OR tally_base = :base)"
            values[":base"] = {"N": str(fold.base)}
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
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ConditionFailed as failed:
            old = from_item(failed.old_item) if failed.old_item else None
            if fold is not None and old is not None and caller.may_see(old):
                raise StoreUnavailable(f"{link_id} changed while its visits were being folded; retry") from None
            raise LinkNotFound(f"no link {link_id}") from None
        return from_item(answer["Attributes"])

    def delete_owned(self, link_id: LinkId, caller: Caller) -> None:
        condition, names, values = _may_change(caller)
        try:
            call(
                "delete_item",
                TableName=self.table,
                Key=_key(link_id),
                ConditionExpression=condition,
                **({"ExpressionAttributeNames": names, "ExpressionAttributeValues": values} if values else {}),
            )
        except ConditionFailed:
            raise LinkNotFound(f"no link {link_id}") from None

    def due(self, slot: str, now: int) -> list[tuple[LinkId, int]]:
        """Links in one by_expiry slot whose expiry has come, with their expires_at."""
        items = query_all(TableName=self.table, IndexName="by_expiry",
                          KeyConditionExpression="expiry_slot = :slot AND expires_at <= :now",
                          ExpressionAttributeValues={":slot": {"S": slot}, ":now": {"N": str(now)}})
        return [(LinkId.from_key(item["link_id"]["S"]), int(item["expires_at"]["N"])) for item in items]

    def mark_expired(self, link_id: LinkId, expires_at: int, now: int) -> bool:
        """Note that the link's expiry was announced and take it out of the index, if its
        expiry is still the one the index showed (a PATCH may have moved it)."""
        try:
            call(
                "update_item",
                TableName=self.table,
                Key=_key(link_id),
                UpdateExpression=f"SET {EXPIRED_NOTICE} = :exp REMOVE {EXPIRY_SLOT}",
                ConditionExpression=f"expires_at = :exp AND expires_at <= :now AND attribute_exists({EXPIRY_SLOT})",
                ExpressionAttributeValues={":exp": {"N": str(expires_at)}, ":now": {"N": str(now)}},
            )
        except ConditionFailed:
            return False
        return True


def _may_change(caller: Caller) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The condition of a caller's PATCH or DELETE: the link exists and, unless the caller is an
    operator, belongs to it."""
    if caller.admin:
        return "attribute_exists(link_id)", {}, {}
    return "attribute_exists(link_id) AND #owner = :owner", {"#owner": "owner"}, {":owner": {"S": caller.key_id}}


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


