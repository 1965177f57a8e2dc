"""PATCH: turn the fields a caller gave into one conditional UpdateItem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from ..errors import InvalidInput, StoreUnavailable
from ..settings import Settings
from . import checks as fields
from .access import Caller
from .identity import LinkId
from .model import GIVEN, Link
from .store import Fold, LinkStore, TicketsMoved
from .tickets import TicketChange, rebalanced, shares

# A PATCH that takes tickets back reads them again when visits took some meanwhile, this often.
TICKET_ATTEMPTS = 3
# `validity` is no stored field: PATCH turns it into expires_at, counted from now.
EXPIRY_INPUTS = ("validity", "expires_at")


def plan_patch(changes: dict[str, Any], settings: Settings, link_id: LinkId, now: int) -> tuple[dict[str, Any], list[str]]:
    """(attributes to set, attributes to remove) for the given fields; 422 for any bad one."""
    if not changes:
        raise InvalidInput.single("body", "name at least one field to change")
    checks = fields.Checks()
    changes = fields.readable(checks, changes)
    context = fields.Context(settings, now, link_id)
    declared = {name: (attr, spec) for attr, name, spec in GIVEN}
    sets: dict[str, Any] = {}
    removes: list[str] = []
    for name, value in changes.items():
        if name in EXPIRY_INPUTS and (value is not None or name == "validity"):
            if value is None:
                checks.fail(name, "cannot be null")
            continue  # a validity or an expiry time: both become expires_at below
        attr, spec = declared[name]
        if value is None and not spec.clearable:
            checks.fail(name, "cannot be null")
            continue
        stored = value if value is None or spec.rule is None else checks.run(partial(spec.rule, value, context))
        if stored in (None, [], {}):
            removes.append(attr)  # null, or an empty title, tag list or target map, clears it
        else:
            sets[attr] = stored
        removes.extend(spec.resets)
    given_expiry = {name: changes[name] for name in EXPIRY_INPUTS if changes.get(name) is not None}
    if given_expiry:
        expiry = checks.run(lambda: fields.expiry(given_expiry.get("validity"), given_expiry.get("expires_at"), context.now))
        if expiry is not None:
            sets["expires_at"] = expiry
        elif "validity" in given_expiry and not checks.errors:
            removes.append("expires_at")  # validity "permanent"
    fields.window(checks, sets.get("valid_since"), sets.get("expires_at"))
    checks.raise_any()
    sets["updated_at"] = now
    return sets, [r for r in dict.fromkeys(removes) if r not in sets]


def patch_link(store: LinkStore, settings: Settings, link_id: LinkId, caller: Caller, changes: dict[str, Any],
               now: int, tally_of: Callable[[Link], int] | None = None) -> Link:
    """Apply the changes to the link as read now (the write is conditional on its life). A link
    whose visit limit is then checked on its own item (a password, or no counters) makes the
    visits its counters counted so far (`tally_of`) count against it: they join the item's
    visits in the same write. A ticketed link (links/tickets.py) gets its tickets for the new
    limit: the same write adds them to its counters or takes them back. Visits of the last
    seconds, not yet tallied, may not be counted against a limit set on a link that had none."""
    caller.may_write()
    planned_sets, planned_removes = plan_patch(changes, settings, link_id, now)
    planned_sets["updated_by"] = caller.actor.to_body()
    for _ in range(TICKET_ATTEMPTS):
        sets, removes = dict(planned_sets), list(planned_removes)
        link = store.get_owned(link_id, caller)
        after = replace(link, max_visits=sets.get("max_visits", None if "max_visits" in removes else link.max_visits),
                        password_hash=sets.get("password_hash", None if "password_hash" in removes else link.password_hash))
        ticketed = store.ticketed(after)
        tally = tally_of(link) if tally_of is not None and after.max_visits is not None and (
            not ticketed or not link.ticketed) else None
        fold = Fold(tally, link.tally_base) if tally is not None and not ticketed else None
        tickets = None
        if ticketed:
            sets["ticketed"] = True
            tickets = _tickets(store, link, after, tally or 0)
        elif link.ticketed:
            removes = [*removes, "ticketed"]
        try:
            return store.update_owned(link, caller, sets, removes, now, fold=fold, tickets=tickets)
        except TicketsMoved:
            continue  # visits took tickets meanwhile: read them again
    raise StoreUnavailable(f"{link_id}'s tickets kept moving while its limit was being changed; retry")


def _tickets(store: LinkStore, before: Link, after: Link, tally: int) -> TicketChange | None:
    """The change of a ticketed link's tickets for its new limit: fresh ones for the visits left
    (a link that was not ticketed: counted from its visits so far), or what is left now plus the
    difference, spread again as a new link's would be (so visits find them where they look)."""
    assert after.max_visits is not None
    if not before.ticketed:
        return TicketChange(fresh=shares(after.max_visits - before.with_tally(tally).visits, store.visit_counters))
    assert before.max_visits is not None
    if after.max_visits == before.max_visits:
        return None
    held = store.tickets_held(before)
    return TicketChange(added=rebalanced(held, max(0, sum(held) + after.max_visits - before.max_visits)))
