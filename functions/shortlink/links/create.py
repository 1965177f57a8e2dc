"""Creating links: apply every input rule, then one conditional PutItem per link."""

from __future__ import annotations

import uuid
from dataclasses import replace
from functools import partial
from typing import Any

from ..errors import AliasTaken
from ..settings import Settings
from . import checks as fields
from .access import Caller
from .codes import new_code
from .identity import LinkId
from .model import GIVEN, Link
from .store import LinkStore, new_revision

# A random 7-character code collides about once in 10^12 draws per existing link;
# a few retries make a failure practically impossible while bounding the work.
CODE_ATTEMPTS = 5


def build_link(given: dict[str, Any], settings: Settings, caller: Caller | None, now: int, code: str | None = None) -> Link:
    """Check every field given (reporting all bad ones together) and make the Link to store.
    `given` holds what the caller sent, by the names callers use; None means not given.
    `caller`: the API key that makes it (None: the page's anonymous link)."""
    checks = fields.Checks()
    given = fields.readable(checks, given)
    domain = checks.run(lambda: fields.domain(given.get("domain"), settings)) or settings.default_domain
    alias = checks.run(lambda: fields.alias(given["alias"])) if given.get("alias") is not None else None
    context = fields.Context(settings, now, LinkId(domain, code or alias or new_code()))
    values: dict[str, Any] = {}
    for attr, name, spec in GIVEN:
        # expires_at comes with its alternative, validity, just below
        if spec.on_create and given.get(name) is not None and name != "expires_at":
            rule = spec.rule
            values[attr] = given[name] if rule is None else checks.run(partial(rule, given[name], context))
    validity = given.get("validity")
    if validity is None and given.get("expires_at") is None:
        validity = settings.default_validity
    values["expires_at"] = checks.run(lambda: fields.expiry(validity, given.get("expires_at"), context.now))
    fields.window(checks, values.get("valid_since"), values["expires_at"])
    checks.raise_any()
    if caller is not None:
        caller.may_create_on(domain)
        values.update(owner=caller.key_id, team=caller.team, created_by=caller.actor.to_body(), updated_by=caller.actor.to_body())
    return Link(domain=domain, code=context.link_id.code, created_at=now, updated_at=now,
                **{attr: value for attr, value in values.items() if value is not None})


def create_link(store: LinkStore, settings: Settings, given: dict[str, Any], caller: Caller | None, now: int) -> Link:
    """Check and store one requested link; a generated code that collides is drawn again
    (and the link built again, so a password is salted with its final code), an alias is not."""
    token = uuid.uuid4().hex
    code = None
    for attempt in range(CODE_ATTEMPTS):
        link = replace(build_link(given, settings, caller, now, code=code), create_token=token)
        if store.ticketed(link):
            link = replace(link, ticketed=True, revision=new_revision())
        try:
            store.put_new(link, now)
            return link
        except AliasTaken:
            if given.get("alias") is not None or attempt == CODE_ATTEMPTS - 1:
                raise
            code = new_code()
    raise AssertionError("unreachable: the last attempt returns or raises")
