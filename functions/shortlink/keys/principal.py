"""Who a request comes from: the key authorizer's decision (functions/authorizer on AWS, the
devserver's gateway locally) and how the /api functions read it back from the request.

The authorizer gets the x-api-key header. A managed key's secret (keys/model.py) is looked up by
the id it carries and let in while it is active, as its principal: id, name, role, team, domains,
handed to the functions in the request's authorizer context; API Gateway meters it by the usage
key made for it. Any other value is passed on as the usage key itself: API Gateway then lets it
in only if it is a key of the usage plan (as before keys were managed), and the functions take
API Gateway's apiKeyId for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Forbidden, ShortLinkError
from ..links.access import ROLES, Caller
from .model import USAGE_PREFIX, ApiKey, id_in
from .store import KeyNotFound, KeyStore


class Unauthorized(ShortLinkError):
    status = 401
    title = "Unauthorized"
    slug = "api-key"


@dataclass(frozen=True)
class Decision:
    """What the authorizer answers: the usage key API Gateway meters, and the context the
    functions get (string values only, as API Gateway passes them)."""

    principal: str
    usage_key: str
    context: dict[str, str]


def decide(secret: str | None, store: KeyStore, now: int) -> Decision:
    """The authorizer's decision for a request's x-api-key (Unauthorized: refused)."""
    if not secret:
        raise Unauthorized("send an API key in the x-api-key header")
    if secret.startswith(USAGE_PREFIX):  # a managed key's usage key: in the plan, but no key to sign in with
        raise Unauthorized("this API key is not known")
    key_id = id_in(secret)
    if key_id is None:
        return Decision(principal="gateway-key", usage_key=secret, context={})
    try:
        key = store.get(key_id)
    except KeyNotFound:
        raise Unauthorized("this API key is not known") from None
    if not key.opens(secret, now):
        raise Unauthorized(f"this API key is {key.state(now)}" if key.state(now) != "active" else "this API key is not known")
    return Decision(principal=key.id, usage_key=key.usage_key or key.id, context=context_of(key))


def context_of(key: ApiKey) -> dict[str, str]:
    return {"key_id": key.id, "name": key.name, "role": key.role, "team": key.team or "",
            "domains": ",".join(key.domains) if key.domains is not None else "*"}


def caller_of(request_context: dict[str, Any], admin_key_ids: tuple[str, ...]) -> Caller:
    """The caller a request's context names: a managed key's principal from the authorizer, else
    API Gateway's own key (an admin when AdminApiKeyIds names it)."""
    granted = request_context.get("authorizer") or {}
    if granted.get("key_id"):
        role = granted.get("role")
        domains = str(granted.get("domains", "*"))
        return Caller(str(granted["key_id"]), role=role if role in ROLES else "viewer", team=granted.get("team") or None,
                      domains=None if domains == "*" else tuple(d for d in domains.split(",") if d), name=granted.get("name"))
    key_id = (request_context.get("identity") or {}).get("apiKeyId")
    if not key_id:
        raise Forbidden("this route needs an API key (x-api-key)")
    return Caller(key_id, role="admin" if key_id in admin_key_ids else "member")
