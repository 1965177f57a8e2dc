"""Making, changing and revoking managed keys (POST/PATCH/DELETE /api/keys): every bad field
reported together; the secret returned once, its hash stored."""

from __future__ import annotations

import re
from typing import Any

from ..clock import parse_iso
from ..errors import FieldError, Forbidden, InvalidInput
from ..links.access import ROLES, Caller
from ..settings import Settings
from .model import NAME_MAX, TEAM_MAX, ApiKey, digest, new_secret
from .store import CHANGEABLE, KeyNotFound, KeyStore
from .usage import UsagePlan

# A team names a list of the search index ("t:<team>|<token>"): no separator, no control character.
_TEAM = re.compile(r"[^\s|,\x00-\x1f\x7f][^|,\x00-\x1f\x7f]*")


def admin_only(caller: Caller) -> None:
    if not caller.admin:
        raise Forbidden("only an admin's API key manages keys")


def _checked(given: dict[str, Any], settings: Settings, now: int) -> dict[str, Any]:
    """The given fields as stored (None: cleared); every bad one named at once."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    if "name" in given:
        name = str(given["name"] or "").strip()
        if not 1 <= len(name) <= NAME_MAX or any(ord(c) < 32 for c in name):
            errors.append(FieldError("name", f"give a name of 1 to {NAME_MAX} characters"))
        values["name"] = name
    if "role" in given:
        if given["role"] not in ROLES:
            errors.append(FieldError("role", f"use {', '.join(ROLES)}"))
        values["role"] = given["role"]
    if "team" in given:
        team = given["team"].strip() if isinstance(given["team"], str) else None
        if team is not None and not (len(team) <= TEAM_MAX and _TEAM.fullmatch(team)):
            errors.append(FieldError("team", f"1 to {TEAM_MAX} characters, without | or ,"))
        values["team"] = team or None
    if "domains" in given:
        domains = given["domains"]
        if domains is not None:
            domains = list(dict.fromkeys(str(d).lower() for d in domains))
            unknown = [d for d in domains if d not in settings.short_domains]
            if not domains or unknown:
                errors.append(FieldError("domains", f"name short domains of this service: {', '.join(settings.short_domains)}"))
        values["domains"] = domains
    if "expires_at" in given:
        expires = parse_iso(given["expires_at"]) if given["expires_at"] is not None else None
        if given["expires_at"] is not None and (expires is None or expires <= now):
            errors.append(FieldError("expires_at", "an ISO 8601 time with its offset, in the future"))
        values["expires_at"] = expires
    if errors:
        raise InvalidInput(errors)
    return values


def make_key(store: KeyStore, usage: UsagePlan, settings: Settings, given: dict[str, Any], caller: Caller,
             now: int) -> tuple[ApiKey, str]:
    """A new key and its secret (shown once). On AWS its usage key joins the usage plan first,
    so the key meters from its first request."""
    admin_only(caller)
    values = _checked({"role": "member", **given}, settings, now)
    key_id, secret = new_secret()
    usage_key_id, usage_key = usage.add(key_id)
    key = ApiKey(id=key_id, name=values["name"], role=values["role"], secret_hash=digest(secret), created_at=now,
                 team=values.get("team"), domains=tuple(values["domains"]) if values.get("domains") else None,
                 expires_at=values.get("expires_at"), created_by=caller.actor, usage_key_id=usage_key_id, usage_key=usage_key)
    try:
        store.add(key)
    except Exception:
        usage.remove(usage_key_id)  # no usage key is left metering a key that was never made
        raise
    return key, secret


def change_key(store: KeyStore, settings: Settings, key_id: str, given: dict[str, Any], caller: Caller, now: int) -> ApiKey:
    admin_only(caller)
    values = _checked({k: v for k, v in given.items() if k in CHANGEABLE}, settings, now)  # a null name or role is refused there
    sets = {k: v for k, v in values.items() if v is not None}
    return store.change(key_id, sets, [k for k, v in values.items() if v is None])


def revoke_key(store: KeyStore, usage: UsagePlan, key_id: str, caller: Caller, now: int) -> None:
    """Revoked for good (the record stays, so links still name who made them); a second revoke
    changes nothing."""
    admin_only(caller)
    try:
        key = store.change(key_id, {"revoked_at": now}, [])
    except KeyNotFound:
        key = store.get(key_id)  # 404 when there is no such key at all
        if key.revoked_at is None:
            raise
    usage.remove(key.usage_key_id)  # again on a repeated revoke: one whose usage key failed to go is finished
