"""PATCH: turn the fields a caller gave into one conditional UpdateItem."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ..errors import InvalidInput
from ..settings import Settings
from . import rules
from .access import Caller
from .identity import LinkId
from .model import GIVEN, Link
from .store import Fold, LinkStore

# `validity` is no stored field: PATCH turns it into expires_at, counted from now.
EXPIRY_INPUTS = ("validity", "expires_at")


def plan_patch(changes: dict[str, Any], settings: Settings, link_id: LinkId, now: int) -> tuple[dict[str, Any], list[str]]:
    """(attributes to set, attributes to remove) for the given fields; 422 for any bad one."""
    if not changes:
        raise InvalidInput.single("body", "name at least one field to change")
    checks = rules.Checks()
    changes = rules.readable(checks, changes)
    context = rules.Context(settings, now, link_id)
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
        expiry = checks.run(lambda: rules.expiry(given_expiry.get("validity"), given_expiry.get("expires_at"), context.now))
        if expiry is not None:
            sets["expires_at"] = expiry
        elif "validity" in given_expiry and not checks.errors:
            removes.append("expires_at")  # validity "permanent"
    rules.window(checks, sets.get("valid_since"), sets.get("expires_at"))
    checks.raise_any()
    sets["updated_at"] = now
    return sets, [r for r in dict.fromkeys(removes) if r not in sets]


def patch_link(store: LinkStore, settings: Settings, link_id: LinkId, caller: Caller, changes: dict[str, Any],
               now: int, tally_of: Callable[[Link], int] | None = None) -> Link:
    """Apply the changes to the link as read now (the write is conditional on its life). A visit
    limit set on a link also makes the visits its counters counted so far (`tally_of`) count
    against it: they join the item's visits in the same write (visits of the last seconds, not
    yet tallied, may not)."""
    sets, removes = plan_patch(changes, settings, link_id, now)
    link = store.get_owned(link_id, caller)
    fold = Fold(tally_of(link), link.tally_base) if "max_visits" in sets and tally_of is not None else None
    return store.update_owned(link, caller, sets, removes, now, fold=fold)
