"""The links table: every write is conditional; every read checks expiry (the callers' rules).

Times cross this edge converted (links/model.py, Stored): the core's milliseconds become whole
epoch seconds for expires_at and valid_since (DynamoDB's TTL and the conditions compare those)
and ISO text for created_at and updated_at.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import TYPE_CHECKING, Any

from ..clock import from_seconds, to_seconds
from ..dynamodb import (
    ConditionFailed,
    Expression,
    InTransaction,
    Item,
    Update,
    action,
    client,
    either,
    every,
    faults,
    get_many,
    keys,
    plain,
    query_all,
    resume,
    typed,
)
from ..errors import AliasTaken, LinkNotFound, NotStored, StoreUnavailable
from ..settings import Settings
from .access import Caller
from .counters import COUNTER_IDLE
from .expiry import expiry_slot
from .identity import LinkId
from .model import STORED, Link
from .tickets import TicketChange, shares

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_ATTRIBUTES = tuple(f.name for f in dataclasses.fields(Link))
EXPIRY_SLOT = "expiry_slot"  # key of the by_expiry index (links/expiry.py)
GUARD_PREFIX = "guard:"  # + a visitor's key: that visitor's password back-off on this link (links/guards.py)
# Copies of a create's PutItem sent after one went unanswered (each with botocore's own retry):
# the handler's worst case is (1 + PUT_RESENDS) x the client's 4 s, inside CreateFunction's 10 s.
PUT_RESENDS = 1
EXPIRED_NOTICE = "expired_notice"  # the expires_at the sweep announced (stored, in epoch seconds)
# On a counter: the tickets of a ticketed link it holds, and the life they belong to (links/tickets.py).
TICKETS, TICKETS_LIFE = "tickets", "tickets_life"


def stored_value(attribute: str, value: Any) -> Any:
    """An attribute's value as the item keeps it."""
    conversion = STORED.get(attribute)
    return value if conversion is None or value is None else conversion.put(value)


def to_item(link: Link) -> Item:
    """The stored item: every attribute of the model, by the same name, plus the key."""
    values = {name: stored_value(name, getattr(link, name)) for name in _ATTRIBUTES}
    if link.expires_at is not None:
        values[EXPIRY_SLOT] = expiry_slot(link.id, link.expires_at)
    # Absent rather than NULL or empty: a GSI key or the TTL attribute must not exist at all.
    return {"link_id": typed(link.id.key), **{k: typed(v) for k, v in values.items() if v not in (None, [], {})}}


def from_item(item: Item) -> Link:
    data = plain(item)
    return Link(**{name: (STORED[name].got(data[name]) if name in STORED else data[name]) for name in _ATTRIBUTES if name in data})


def announced_expiry(item: Item) -> int | None:
    """The expiry the sweep announced on this item (stored in epoch seconds), as a moment."""
    notice = plain(item).get(EXPIRED_NOTICE)
    return from_seconds(notice) if notice is not None else None


def _key(link_id: LinkId) -> Item:
    return keys(("link_id", link_id.key))


def live_condition(expression: Expression, now: int) -> str:
    """The link exists and has not expired (its expiry is compared in the seconds it is stored in)."""
    return every(expression.exists("link_id"),
                 either(expression.absent("expires_at"), expression.compare("expires_at", ">", to_seconds(now))))


def guard_attribute(visitor: str) -> str:
    return GUARD_PREFIX + visitor


def visit_condition(expression: Expression, now: int) -> str:
    """Every rule a visit must pass, checked by DynamoDB in the same request that counts it."""
    seconds = to_seconds(now)
    return every(live_condition(expression, now),
                 either(expression.absent("valid_since"), expression.compare("valid_since", "<=", seconds)),
                 either(expression.absent("disabled"), expression.compare("disabled", "<>", True)),
                 either(expression.absent("max_visits"), f"{expression.name('visits')} < {expression.name('max_visits')}"))


@dataclasses.dataclass(frozen=True)
class Unlock:
    """A password checked right for a visitor: the hash the visit's condition compares."""

    password_hash: str
    visitor: str


class VisitRefused(Exception):
    """The link exists but one of its rules refused this visit; `link` says which."""

    def __init__(self, link: Link) -> None:
        super().__init__(str(link.id))
        self.link = link


class StaleCopy(Exception):
    """A visit counted from a copy of the link older than its last PATCH or DELETE: refused."""


class TicketsMoved(Exception):
    """A PATCH would take back tickets a counter no longer holds (visits took them meanwhile)."""


class LinkStore:
    """The links table (LinksTable), one conditional request per operation.

    `visit_counters`: how many counters each plain link has (links/counters.py). A PATCH or
    DELETE then writes, in one transaction with the link, a new revision on every counter, and
    a visit counted on a counter holds the revision of the copy it followed as its condition:
    whatever instance kept a copy from before the change, its next visit is refused and reads
    the link again. So a change that returned is obeyed by every later visit, and a plain
    redirect stays one request.
    """

    def __init__(self, table: str, *, visit_counters: int = 0) -> None:
        self.table = table
        self.visit_counters = visit_counters

    @classmethod
    def of(cls, settings: Settings) -> LinkStore:
        """The links table as the settings name it, with their counters per link."""
        return cls(settings.links_table, visit_counters=settings.visit_counters)

    def put_new(self, link: Link, now: int) -> None:
        """Store a new link; the code may be reused only when its old link has expired.

        Exactly once: the link carries its request's create_token, so a copy of the PutItem
        that meets the first write recognises it as its own (the condition fails, and the item
        it hands back holds the same token). When no answer comes (botocore's retry included),
        the write may still land later: a request that timed out is not a cancelled one. So it
        is sent once more, and that answer is certain - the link is stored, or found stored by
        an earlier copy, or the code is taken - and a copy landing later finds the code taken
        and changes nothing. Raises AliasTaken when another live link holds the code,
        StoreUnavailable when the store answered none of the copies.
        """
        assert link.create_token, "a new link carries its request's token"
        assert link.ticketed == self.ticketed(link), "a ticketed link is one the store spreads (ticketed())"
        expression = Expression()
        taken = either(expression.absent("link_id"), expression.compare("expires_at", "<=", to_seconds(now)))
        put = {"TableName": self.table, "Item": to_item(link), "ConditionExpression": taken,
               "ReturnValuesOnConditionCheckFailure": "ALL_OLD", **expression.placeholders()}
        for resend in range(PUT_RESENDS + 1):
            try:
                if link.ticketed:  # with its tickets on its counters, in one transaction
                    assert link.revision and link.max_visits is not None
                    self._with_fence(link, action("Put", **put), link.revision, counter_expiry(link, now),
                                     TicketChange(fresh=shares(link.max_visits, self.visit_counters)))
                else:
                    with faults("PutItem"):
                        client().put_item(**put)  # type: ignore[arg-type]  # the same fields the transaction's Put takes
                return
            except ConditionFailed as failed:
                if failed.old_item and plain(failed.old_item).get("create_token") == link.create_token:
                    return  # an earlier copy landed; only its answer was lost
                raise AliasTaken(f"'{link.code}' is already in use on {link.domain}") from None
            except StoreUnavailable:
                if resend == PUT_RESENDS:
                    raise

    def ticketed(self, link: Link) -> bool:
        """Whether the link's visit limit is spread as tickets over its counters (links/tickets.py):
        a limit without a password, where links have counters."""
        return bool(self.visit_counters) and link.max_visits is not None and link.password_hash is None

    def item(self, link_id: LinkId, consistent: bool = True) -> Item:
        with faults("GetItem"):
            answer = client().get_item(TableName=self.table, Key=_key(link_id), ConsistentRead=consistent)
        if "Item" not in answer:
            raise NotStored(f"no link {link_id}")
        return answer["Item"]

    def get(self, link_id: LinkId) -> Link:
        """The stored link, whatever its state (one strongly consistent GetItem)."""
        return from_item(self.item(link_id))

    def read_copy(self, link_id: LinkId) -> Link:
        """The link for a redirect's copy (links/cache.py): an eventually consistent GetItem (half
        the read units; at most a second behind a change, inside the copy's own bound), and a
        strongly consistent one only when that finds nothing, so a link made a moment ago is
        never a false 404."""
        try:
            return from_item(self.item(link_id, consistent=False))
        except LinkNotFound:
            return self.get(link_id)

    def get_owned(self, link_id: LinkId, caller: Caller) -> Link:
        link = self.get(link_id)
        if not caller.may_see(link):
            raise LinkNotFound(f"no link {link_id}")  # another owner's link does not exist for you
        return link

    def update(self, link_id: LinkId, update: Update, condition: str, *, old_on_failure: bool = False) -> Link:
        """One conditional UpdateItem of a link's item; the link as it is after it."""
        with faults("UpdateItem"):
            answer = client().update_item(
                TableName=self.table, Key=_key(link_id), UpdateExpression=update.text(), ConditionExpression=condition,
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD" if old_on_failure else "NONE",
                **update.expression.placeholders())
        return from_item(answer["Attributes"])

    def list_all(self, limit: int, start: dict[str, str] | None) -> tuple[list[Link], dict[str, str] | None]:
        """One page of every link, in the table's order (operators): a Scan, so it reads the
        whole table page by page; there is no index of all links to keep hot."""
        expression = Expression()
        with faults("Scan"):  # visit counters share the table; they have no code
            answer = client().scan(TableName=self.table, Limit=limit, FilterExpression=expression.exists("code"),
                                   **resume(_key(LinkId.from_key(start["link_id"])) if start else None), **expression.placeholders())
        last = answer.get("LastEvaluatedKey")
        next_start = {"link_id": last["link_id"]["S"], "created_at": ""} if last else None
        return [from_item(item) for item in answer.get("Items", [])], next_start

    def list_owned(self, owner: str, limit: int, start: dict[str, str] | None) -> tuple[list[Link], dict[str, str] | None]:
        """One page of the owner's links, newest first, from the by_owner index."""
        expression = Expression()
        position = keys(("link_id", start["link_id"]), ("created_at", start["created_at"]), ("owner", owner)) if start else None
        with faults("Query"):
            answer = client().query(TableName=self.table, IndexName="by_owner", ScanIndexForward=False, Limit=limit,
                                    KeyConditionExpression=expression.compare("owner", "=", owner), **resume(position),
                                    **expression.placeholders())
        last = answer.get("LastEvaluatedKey")
        next_start = {"link_id": last["link_id"]["S"], "created_at": last["created_at"]["S"]} if last else None
        return [from_item(item) for item in answer.get("Items", [])], next_start

    def update_owned(self, link: Link, caller: Caller, sets: dict[str, Any], removes: list[str], now: int, *,
                     fold: Fold | None = None, tickets: TicketChange | None = None) -> Link:
        """Apply a PATCH to `link` (as just read) in one UpdateItem (in one transaction with the
        fence on its visit counters, and the change of its tickets, when links have counters),
        only if that link still exists (the same life) and the caller may change it.
        A new expiry moves the link in the by_expiry index; none takes it out. With `fold`, the
        visits its counters counted since the last fold join the item's own (a visit limit
        counts them), in the same write. Raises TicketsMoved when a counter no longer holds the
        tickets `tickets` takes back (visits took them meanwhile): read again and retry."""
        link_id = link.id
        if "expires_at" in sets:
            sets = {**sets, EXPIRY_SLOT: expiry_slot(link_id, sets["expires_at"])}
        if "expires_at" in removes:
            removes = [*removes, EXPIRY_SLOT]
        expression = Expression()
        condition = _may_change(expression, caller, link)
        update = Update(expression)
        for name, value in sets.items():
            update.set(name, stored_value(name, value))
        if fold is not None and fold.tally > fold.base:
            update.set("tally_base", fold.tally)
            update.set_to("visits", f"{update.if_absent('visits', 0)} + {expression.value(fold.tally - fold.base)}")
            # Two PATCHes folding at once would both add: the second finds the base moved.
            condition = every(condition, either(expression.absent("tally_base"), expression.compare("tally_base", "=", fold.base)))
        update.remove(*removes)
        try:
            if not self.visit_counters:
                return self.update(link_id, update, condition, old_on_failure=True)
            revision = new_revision()
            update.set("revision", revision)
            after = dataclasses.replace(link, ticketed=bool(sets.get("ticketed", link.ticketed and "ticketed" not in removes)),
                                        expires_at=sets.get("expires_at", None if "expires_at" in removes else link.expires_at))
            self._with_fence(link, action("Update", TableName=self.table, Key=_key(link_id), UpdateExpression=update.text(),
                                          ConditionExpression=condition, ReturnValuesOnConditionCheckFailure="ALL_OLD",
                                          **expression.placeholders()), revision, counter_expiry(after, now), tickets)
        except ConditionFailed as failed:
            if failed.action > 0:
                raise TicketsMoved(str(link_id)) from None
            old = from_item(failed.old_item) if failed.old_item else None
            if old is not None and caller.may_see(old):
                raise StoreUnavailable(f"{link_id} changed while it was being changed; retry") from None
            raise LinkNotFound(f"no link {link_id}") from None
        return self.get(link_id)  # a transaction hands back no item

    def delete_owned(self, link: Link, caller: Caller, now: int) -> None:
        """Delete `link` (as just read), only if it is still that link and the caller may. A
        caller other than its last changer is first written into it, so the deleted item (the
        stream's REMOVE record, whence link.deleted) names who deleted it."""
        caller.may_write()
        if link.updated_by != caller.actor.to_body():
            expression = Expression()
            try:
                self.update(link.id, Update(expression).set("updated_by", caller.actor.to_body()), _may_change(expression, caller, link))
            except ConditionFailed:
                raise LinkNotFound(f"no link {link.id}") from None
        expression = Expression()
        condition = _may_change(expression, caller, link)
        key = _key(link.id)
        try:
            if not self.visit_counters:
                with faults("DeleteItem"):
                    client().delete_item(TableName=self.table, Key=key, ConditionExpression=condition, **expression.placeholders())
                return
            self._with_fence(link, action("Delete", TableName=self.table, Key=key, ConditionExpression=condition,
                                          **expression.placeholders()), new_revision(), now + COUNTER_IDLE)
        except ConditionFailed:
            raise LinkNotFound(f"no link {link.id}") from None

    def _with_fence(self, link: Link, change: TransactWriteItemTypeDef, revision: str, expiry: int | None,
                    tickets: TicketChange | None = None) -> None:
        """The link's change and the fence on each of its visit counters, all or nothing (one
        transaction: at most 100 actions, so at most 99 counters): `revision`, and the life it
        belongs to (a code used again starts a new life, whose copies the old fence must not
        refuse), and any change of its tickets. A counter the fence meets lives until `expiry`:
        longer than any copy of the link is kept, so no counter a stale copy could count on
        disappears first (None: as long as the item, for a ticketed permanent link)."""
        with faults("TransactWriteItems"):
            client().transact_write_items(TransactItems=[change, *self._fences(link, revision, expiry, tickets)])

    def _fences(self, link: Link, revision: str, expiry: int | None, tickets: TicketChange | None) -> list[TransactWriteItemTypeDef]:
        actions = []
        for n in range(self.visit_counters):
            expression = Expression()
            update = Update(expression).set("link_revision", revision).set("fence_life", link.life)
            if expiry is None:
                update.remove("expires_at")
            else:
                update.set("expires_at", to_seconds(expiry))
            condition = ""
            if tickets is not None and tickets.fresh is not None:
                update.set(TICKETS, tickets.fresh[n]).set(TICKETS_LIFE, link.life)
            elif tickets is not None and tickets.added is not None and tickets.added[n]:
                update.add(TICKETS, tickets.added[n])
                condition = expression.compare(TICKETS_LIFE, "=", link.life)
                if tickets.added[n] < 0:  # only what the counter still holds
                    condition = every(condition, expression.compare(TICKETS, ">=", -tickets.added[n]))
            actions.append(action("Update", TableName=self.table, Key=keys(("link_id", link.id.counter_key(n))),
                                  UpdateExpression=update.text(), **({"ConditionExpression": condition} if condition else {}),
                                  **expression.placeholders()))
        return actions

    def visit(self, link_id: LinkId, now: int, facts: dict[str, Any], *, count: bool = True,
              password: Unlock | None = None) -> Link:
        """Record one visit (last_visit, and visits or, for a bot, bot_visits) and return the link,
        in one conditional UpdateItem. The stream carries last_visit to statistics.

        The condition holds every rule of the link (exists, not expired, valid since, not
        disabled, visit limit, password). When it fails DynamoDB hands back the old item, from
        which the caller tells why (VisitRefused) - still one request. With `password` (a
        checked, right one) the visitor's back-off is forgiven and the guess given back.
        """
        expression = Expression()
        # Bots are numbered apart, so that the statistics can tell a replayed bot visit too.
        update = Update(expression).set("last_visit", facts).add("visits" if count else "bot_visits", 1)
        condition = visit_condition(expression, now)
        if password is None:
            condition = every(condition, expression.absent("password_hash"))
        else:
            condition = every(condition, expression.compare("password_hash", "=", password.password_hash))
            update.add("guess_count", -1).remove(guard_attribute(password.visitor))
        try:
            return self.update(link_id, update, condition, old_on_failure=True)
        except ConditionFailed as failed:
            if failed.old_item:
                raise VisitRefused(from_item(failed.old_item)) from None
            raise NotStored(f"no link {link_id}") from None

    def count_visit(self, link: Link, counter: int, now: int, facts: dict[str, Any], *, count: bool = True) -> None:
        """Record one visit of a link without rules to check (links/counters.py) on one of its
        visit counters: one UpdateItem, never on the link's own item, on the condition that the
        counter holds the revision of this copy of the link (none: no PATCH has fenced it).
        The counter carries the link's life (created_at) and expiry for the statistics, and
        lives on COUNTER_IDLE after its last visit. Raises StaleCopy when the link changed."""
        expression = Expression()
        update = _counted(expression, link, now, facts, count).set("expires_at", to_seconds(now + COUNTER_IDLE))
        try:
            with faults("UpdateItem"):
                client().update_item(TableName=self.table, Key=keys(("link_id", link.id.counter_key(counter))),
                                     UpdateExpression=update.text(), ConditionExpression=_current(expression, link),
                                     **expression.placeholders())
        except (ConditionFailed, InTransaction):  # fenced, or being fenced right now
            raise StaleCopy(str(link.id)) from None

    def claim_ticket(self, link: Link, counter: int, now: int, facts: dict[str, Any]) -> bool:
        """A visit of a ticketed link (links/tickets.py): one ticket of the counter taken and the
        visit counted there, in one UpdateItem on the condition that the counter holds a ticket
        of this life and this copy's revision. False when it holds none; StaleCopy when the link
        changed. The counter keeps the expiry its tickets were given (they outlive idle days)."""
        expression = Expression()
        # the tally (stats/record.py) at which every ticket is used: there link.exhausted is announced
        assert link.max_visits is not None
        update = (_counted(expression, link, now, facts, True).add(TICKETS, -1)
                  .set("exhausted_at", link.max_visits - link.visits + link.tally_base))
        condition = every(_current(expression, link), expression.compare(TICKETS_LIFE, "=", link.life),
                          expression.compare(TICKETS, ">", 0))
        try:
            with faults("UpdateItem"):
                client().update_item(TableName=self.table, Key=keys(("link_id", link.id.counter_key(counter))),
                                     UpdateExpression=update.text(), ConditionExpression=condition,
                                     ReturnValuesOnConditionCheckFailure="ALL_OLD", **expression.placeholders())
        except InTransaction:
            raise StaleCopy(str(link.id)) from None
        except ConditionFailed as failed:
            old = plain(failed.old_item or {})
            if "link_revision" in old and old.get("fence_life") == link.life and old["link_revision"] != link.revision:
                raise StaleCopy(str(link.id)) from None
            return False
        return True

    def tickets_held(self, link: Link) -> list[int]:
        """The tickets each of the link's counters holds now, for its life (strongly consistent)."""
        wanted = [keys(("link_id", link.id.counter_key(n))) for n in range(self.visit_counters)]
        found = {item["link_id"]: item for item in map(plain, get_many(self.table, wanted, consistent=True))}
        held = [found.get(link.id.counter_key(n), {}) for n in range(self.visit_counters)]
        return [int(item.get(TICKETS, 0)) if item.get(TICKETS_LIFE) == link.life else 0 for item in held]

    def due(self, slot: str, now: int) -> list[tuple[LinkId, int]]:
        """Links in one by_expiry slot whose expiry has come, with their expires_at."""
        expression = Expression()
        found = query_all(TableName=self.table, IndexName="by_expiry",
                          KeyConditionExpression=every(expression.compare(EXPIRY_SLOT, "=", slot),
                                                       expression.compare("expires_at", "<=", to_seconds(now))),
                          **expression.placeholders())
        return [(LinkId.from_key(item["link_id"]["S"]), from_seconds(int(item["expires_at"]["N"]))) for item in found]

    def mark_expired(self, link_id: LinkId, expires_at: int, now: int) -> bool:
        """Note that the link's expiry was announced and take it out of the index, if its
        expiry is still the one the index showed (a PATCH may have moved it)."""
        expression = Expression()
        update = Update(expression).set(EXPIRED_NOTICE, to_seconds(expires_at)).remove(EXPIRY_SLOT)
        condition = every(expression.compare("expires_at", "=", to_seconds(expires_at)),
                          expression.compare("expires_at", "<=", to_seconds(now)), expression.exists(EXPIRY_SLOT))
        try:
            with faults("UpdateItem"):
                client().update_item(TableName=self.table, Key=_key(link_id), UpdateExpression=update.text(),
                                     ConditionExpression=condition, **expression.placeholders())
        except ConditionFailed:
            return False
        return True


@dataclasses.dataclass(frozen=True)
class Fold:
    """A link's counters' tally (visits counted on them in this life) and the part of it already
    in the item's visits (tally_base)."""

    tally: int
    base: int


def _current(expression: Expression, link: Link) -> str:
    """A counter's condition for a visit from this copy of the link: no PATCH has fenced the
    counter in this life, or the last one gave it this copy's revision."""
    return either(expression.absent("link_revision"), expression.compare("fence_life", "<>", link.life),
                  expression.compare("link_revision", "=", link.revision) if link.revision is not None else "")


def _counted(expression: Expression, link: Link, now: int, facts: dict[str, Any], count: bool) -> Update:
    """A visit as a counter records it: the facts, the link's life and expiry for the
    statistics, its number among the counter's visits (people and bots apart)."""
    update = Update(expression).set("last_visit", facts).set("created_at", stored_value("created_at", link.created_at))
    update.set_to("born", update.if_absent("born", to_seconds(now)))
    if link.expires_at is not None:
        update.set("link_expires_at", to_seconds(link.expires_at))
    return update.add("visits" if count else "bot_visits", 1)


def counter_expiry(link: Link, now: int) -> int | None:
    """When TTL may remove the link's counters after a fence: COUNTER_IDLE from now, or for a
    ticketed link, whose counters hold its tickets, COUNTER_IDLE after the link expires (never,
    while a permanent one lives)."""
    if not link.ticketed:
        return now + COUNTER_IDLE
    return link.expires_at + COUNTER_IDLE if link.expires_at is not None else None


def new_revision() -> str:
    return secrets.token_hex(8)


def _may_change(expression: Expression, caller: Caller, link: Link) -> str:
    """The condition of a caller's PATCH or DELETE of a link it read: the link still exists, in
    the same life, and, unless the caller is an admin, belongs to its team (or, for a key of no
    team, to the key itself). The caller's domains are the link's own: the key names it."""
    same = expression.compare("created_at", "=", stored_value("created_at", link.created_at))
    if caller.admin:
        return same
    if caller.team is not None:
        return every(same, expression.compare("team", "=", caller.team))
    return every(same, expression.compare("owner", "=", caller.key_id), expression.absent("team"))
