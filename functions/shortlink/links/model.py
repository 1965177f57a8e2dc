"""The Link model. Each field is declared once, here: its type and default, how callers give
it (JSON type, rule, on create and/or PATCH, whether null clears it) and how the link body
shows it. The item mapping (links/store.py), create, PATCH and the API schemas
(api/schemas.py) all follow from these declarations."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..clock import from_seconds, iso, parse_stamp, stamp, to_seconds
from ..settings import Settings
from . import checks, routing
from .identity import LinkId
from .limits import MAX_VISITS, PASSWORD, RULES, TAGS, TITLE, URL, Bounds

State = Literal["active", "scheduled", "expired", "exhausted", "disabled"]
MILESTONES = tuple(10**k for k in range(2, 13))  # visits announced as link.milestone: 100, 1,000, ...


def _same(value: Any) -> Any:
    return value.copy() if isinstance(value, (list, dict)) else value


@dataclass(frozen=True)
class Given:
    """How callers give a field: the JSON type they send and the rule that checks it."""

    json_type: Any
    rule: checks.Rule | None = None  # None: any value of json_type is stored as it is
    doc: str = ""
    name: str = ""  # the name callers use, when it is not the attribute's
    on_create: bool = True  # False: only PATCH may set it
    clearable: bool = False  # PATCH null clears it
    resets: tuple[str, ...] = ()  # stored attributes that giving this field removes
    bounds: Bounds | None = None  # published in the OpenAPI document; the rule enforces them


@dataclass(frozen=True)
class Shown:
    """How the link body shows a field."""

    json_type: Any
    name: str = ""
    show: Callable[[Any], Any] = _same
    doc: str = ""


@dataclass(frozen=True)
class Stored:
    """How the item keeps an attribute, when not as it is: put into the item, got back from it."""

    put: Callable[[Any], Any]
    got: Callable[[Any], Any]


# A moment DynamoDB compares or expires by (its TTL reads whole epoch seconds).
SECONDS = Stored(to_seconds, from_seconds)
# A moment kept as text that sorts in time order (the by_owner index's sort key).
STAMP = Stored(stamp, parse_stamp)


def attribute(default: Any = dataclasses.MISSING, *, given: Given | None = None, shown: Shown | None = None,
              factory: Callable[[], Any] | None = None, stored: Stored | None = None) -> Any:
    metadata = {"given": given, "shown": shown, "stored": stored}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


# A new or removed password starts the link's guess count afresh.
_GUESSES = ("guess_window", "guess_count")


@dataclass
class Link:
    domain: str = attribute(shown=Shown(str))
    code: str = attribute(shown=Shown(str))
    url: str = attribute(given=Given(str, checks.url, "The long URL (http or https).", bounds=URL), shown=Shown(str))
    created_at: int = attribute(shown=Shown(str, show=stamp), stored=STAMP)
    updated_at: int = attribute(shown=Shown(str, show=stamp), stored=STAMP)
    owner: str | None = attribute(None)  # the API key id; None for links made on the page
    team: str | None = attribute(None, shown=Shown(str | None, doc=(
        "The team of the API key that made it: its members share the link. Null: the owner's own.")))
    created_by: dict[str, str | None] | None = attribute(None, shown=Shown(dict[str, str | None] | None, doc="The API key that made it (id, name)."))
    updated_by: dict[str, str | None] | None = attribute(None, shown=Shown(dict[str, str | None] | None, doc=(
        "The API key that changed it last (id, name); the maker until then.")))
    expires_at: int | None = attribute(None, given=Given(
        str, checks.expires_at, "ISO 8601 time with offset, instead of validity; null makes the link permanent.",
        clearable=True), shown=Shown(str | None, show=iso, doc="null for a permanent link"), stored=SECONDS)
    valid_since: int | None = attribute(None, given=Given(
        str, checks.valid_since, "ISO 8601 time with offset; 404 before it.", clearable=True), shown=Shown(str | None, show=iso),
        stored=SECONDS)
    max_visits: int | None = attribute(None, given=Given(
        int, checks.max_visits, "The visit after this many answers 410.", clearable=True, bounds=MAX_VISITS),
        shown=Shown(int | None))
    visits: int = attribute(0, shown=Shown(int))
    disabled: bool = attribute(False, given=Given(bool, doc="true answers 410 to every visit.", on_create=False),
                               shown=Shown(bool))
    redirect_status: int = attribute(302, given=Given(Literal[301, 302, 307, 308], checks.redirect_status), shown=Shown(int))
    forward_query: bool = attribute(False, given=Given(bool, doc="Append the visitor's query string to the target."),
                                    shown=Shown(bool))
    title: str | None = attribute(None, given=Given(str, checks.title, "A name for the link.", clearable=True, bounds=TITLE),
                                  shown=Shown(str | None))
    tags: list[str] = attribute(factory=list, given=Given(list[str], checks.tags, "Labels to find the link by; repeats are dropped.",
                                                          clearable=True, bounds=TAGS), shown=Shown(list[str]))
    password_hash: str | None = attribute(None, given=Given(
        str, checks.password, "Visitors must enter it; null removes it.", name="password",
        clearable=True, resets=_GUESSES, bounds=PASSWORD), shown=Shown(bool, name="password_protected", show=lambda h: h is not None))
    targets: dict[str, str] = attribute(factory=dict, given=Given(
        dict[str, str | None], checks.targets, "Per-platform URLs (ios, android, desktop); others get url.",
        clearable=True), shown=Shown(dict[str, str]))
    rules: list[dict[str, Any]] = attribute(factory=list, given=Given(
        list[dict[str, Any]], checks.redirect_rules, "Ordered redirect rules: the first whose `when` holds for the visitor "
        "sends them to its `url`; the rest get `targets`, then `url`.", clearable=True, bounds=RULES),
        shown=Shown(list[dict[str, Any]], show=routing.shown))
    in_app: str | None = attribute(None, given=Given(
        str, checks.in_app, doc="In WeChat, QQ and other apps' browsers: redirect, or a page that guides the "
        "visitor to open the link in their browser. Null: the stack's InAppDefault.", clearable=True),
        shown=Shown(str | None, doc="null: the stack's InAppDefault"))
    preview: dict[str, str] | None = attribute(None, given=Given(
        dict[str, Any], checks.preview, "What chat and social apps show for the link (title, description, image); "
        "their preview fetchers get it instead of the redirect.", clearable=True), shown=Shown(dict[str, str] | None))
    # The create request that stored this link: a retried PutItem recognises its own first write.
    create_token: str | None = attribute(None)
    # A fresh token on every PATCH, written to the link's visit counters in the same transaction:
    # a redirect counting on a counter from an older copy of the link is refused (links/store.py).
    revision: str | None = attribute(None)
    # Its visit limit is spread as tickets over its visit counters (links/tickets.py): the limit
    # is checked there, not on this item.
    ticketed: bool = attribute(False)
    # Password guesses checked in the current minute (written by the redirect's store only);
    # each visitor's own back-off lives in the item as guard:<visitor> attributes (links/store.py).
    guess_window: int | None = attribute(None)
    guess_count: int = attribute(0)
    # The part of the counters' tally (links/counters.py) already added to `visits`: a PATCH that
    # sets a visit limit adds the tally, so that the limit's conditional write counts it.
    tally_base: int = attribute(0)

    @property
    def id(self) -> LinkId:
        return LinkId(self.domain, self.code)

    @property
    def life(self) -> str:
        """This life of the code (its statistics belong to it): a code made again starts from zero."""
        return self.id.life(self.created_at)

    def with_tally(self, tally: int) -> Link:
        """The link with the visits its counters counted (the statistics' life row) added."""
        return dataclasses.replace(self, visits=self.visits + max(0, tally - self.tally_base))

    def is_expired(self, now: int) -> bool:
        # Valid while now < expires_at; the store's conditions compare the same in whole seconds.
        return self.expires_at is not None and self.expires_at <= now

    def state(self, now: int) -> State:
        if self.disabled:
            return "disabled"
        if self.is_expired(now):
            return "expired"
        if self.max_visits is not None and self.visits >= self.max_visits:
            return "exhausted"
        if self.valid_since is not None and now < self.valid_since:
            return "scheduled"
        return "active"

    def to_body(self, now: int, settings: Settings) -> dict[str, Any]:
        """The link body every route returns."""
        body = {name: spec.show(getattr(self, attr)) for attr, name, spec in SHOWN}
        return {**body, "short_url": settings.short_url(self.domain, self.code), "state": self.state(now), "owner": self.owner}


def _declared(kind: str) -> list[tuple[str, str, Any]]:
    """(attribute, name callers see, Given or Shown) of every field declared `kind`."""
    return [(f.name, f.metadata[kind].name or f.name, f.metadata[kind])
            for f in dataclasses.fields(Link) if f.metadata.get(kind) is not None]


GIVEN: list[tuple[str, str, Given]] = _declared("given")
SHOWN: list[tuple[str, str, Shown]] = _declared("shown")
STORED: dict[str, Stored] = {f.name: f.metadata["stored"] for f in dataclasses.fields(Link) if f.metadata.get("stored")}
# Shown beside the declared fields: derived from them.
DERIVED_SHOWN: dict[str, Any] = {"short_url": str, "state": State, "owner": str | None}


def default_of(attr: str) -> Any:
    """The value a new link has for `attr` when the caller does not give it."""
    spec = next(f for f in dataclasses.fields(Link) if f.name == attr)
    return spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default
