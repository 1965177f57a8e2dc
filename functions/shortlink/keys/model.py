"""A managed API key: its record, its secret, and the principal a request with it acts as.

A managed key's secret reads `slk_<id>_<random>`: the id names its record in KeysTable, which
keeps only the secret's SHA-256 (256 random bits leave nothing to guess, so no slow hash is
needed). Keys API Gateway made (usage-plan keys, the devserver's LOCAL_API_KEYS) have no record:
each is a member of a team of its own, or an admin when AdminApiKeyIds / LOCAL_ADMIN_KEYS names it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from ..clock import iso
from ..links.access import Actor, Role

KeyState = Literal["active", "expired", "revoked"]
NAME_MAX, TEAM_MAX = 100, 64  # characters of a key's name and of a team's

SECRET_PREFIX = "slk_"
USAGE_PREFIX = "slkusage_"  # the value of a managed key's usage key (keys/usage.py): never a credential
_SECRET = re.compile(r"slk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")


def new_secret() -> tuple[str, str]:
    """A fresh key's id and secret."""
    key_id = secrets.token_hex(6)
    return key_id, f"{SECRET_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def id_in(secret: str) -> str | None:
    """The record a managed key's secret names; None for any other key."""
    matched = _SECRET.fullmatch(secret)
    return matched.group(1) if matched else None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A managed key's record (KeysTable). `team` None: a team of its own; `domains` None: all."""

    id: str
    name: str
    role: Role
    secret_hash: str
    created_at: int
    team: str | None = None
    domains: tuple[str, ...] | None = None
    expires_at: int | None = None
    revoked_at: int | None = None
    created_by: Actor | None = None
    # API Gateway's key that meters this one against the usage plan (AWS; none on the devserver)
    usage_key_id: str | None = None
    usage_key: str | None = None

    def state(self, now: int) -> KeyState:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    def opens(self, secret: str, now: int) -> bool:
        """Whether `secret` is this key's, and the key may be used now."""
        return hmac.compare_digest(digest(secret), self.secret_hash) and self.state(now) == "active"

    def to_body(self, now: int) -> dict[str, Any]:
        """As the API shows it: never the secret, its hash or the metering key."""
        return {
            "id": self.id, "name": self.name, "role": self.role, "team": self.team,
            "domains": list(self.domains) if self.domains is not None else None,
            "state": self.state(now), "expires_at": iso(self.expires_at), "created_at": iso(self.created_at),
            "revoked_at": iso(self.revoked_at), "created_by": self.created_by.to_body() if self.created_by else None,
        }
