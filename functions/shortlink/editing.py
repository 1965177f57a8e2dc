"""PATCH: turn the fields a caller gave into one conditional UpdateItem."""

from __future__ import annotations

from typing import Any

from . import fields
from .creating import timestamp
from .errors import InvalidInput
from .link import Link
from .passwords import hash_password
from .settings import Settings
from .store import LinkStore

# Fields that may be cleared with null, and the stored attributes clearing removes.
CLEARABLE = {
    "expires_at": ["expires_at"],
    "valid_since": ["valid_since"],
    "max_visits": ["max_visits"],
    "targets": ["targets"],
    "password": ["password_hash", "password_failures", "password_retry_at"],
    "title": ["title"],
    "tags": ["tags"],
}


def plan_patch(changes: dict[str, Any], settings: Settings, link_id: str, now: float) -> tuple[dict[str, Any], list[str]]:
    """(attributes to set, attributes to remove) for the given fields; 422 for any bad one."""
    checks = fields.Checks()
    sets: dict[str, Any] = {}
    removes: list[str] = []
    if not changes:
        raise InvalidInput.single("body", "name at least one field to change")
    for name, value in changes.items():
        if value is None and name not in CLEARABLE:
            checks.fail(name, "cannot be null")
        elif value is None:
            removes.extend(CLEARABLE[name])
    given = {k: v for k, v in changes.items() if v is not None}
    if "validity" in given or "expires_at" in given:
        expiry = checks.run(lambda: fields.expiry(given.get("validity"), given.get("expires_at"), int(now)))
        if expiry is None and "validity" in given and not checks.errors:
            removes.append("expires_at")  # validity "permanent"
        elif expiry is not None:
            sets["expires_at"] = expiry
    rules = {
        "url": lambda v: fields.url(v, settings),
        "valid_since": fields.valid_since,
        "max_visits": fields.max_visits,
        "redirect_status": fields.redirect_status,
        "forward_query": bool,
        "disabled": bool,
        "title": fields.title,
        "tags": fields.tags,
        "targets": lambda v: fields.targets(v, settings),
        "password": lambda v: hash_password(fields.password(v), link_id),
    }
    stored_name = {"password": "password_hash"}
    for name, rule in rules.items():
        if name in given:
            value = checks.run(lambda rule=rule, name=name: rule(given[name]))
            if value in (None, [], {}):
                removes.append(name)  # an empty title, tag list or target map clears it
            else:
                sets[stored_name.get(name, name)] = value
    if "password" in given:
        removes.extend(["password_failures", "password_retry_at"])
    fields.window(checks, sets.get("valid_since"), sets.get("expires_at"))
    checks.raise_any()
    sets["updated_at"] = timestamp(now)
    return sets, [r for r in dict.fromkeys(removes) if r not in sets]


def patch_link(store: LinkStore, settings: Settings, domain: str, code: str, owner: str,
               changes: dict[str, Any], now: float) -> Link:
    sets, removes = plan_patch(changes, settings, f"{domain}/{code}", now)
    return store.update_owned(domain, code, owner, sets, removes)
