"""What a link is found by, and whether it matches a search (pure: no store).

The search index (links/catalogue.py) keeps, per scope (one owner's links, or every link for the
operators), one list of link lives per token, newest first: `*` (every life), each tag, the
domain, and the states a write can reveal. Each life on the `*` list carries its searchable text
(title, the URL's host and path, code, tags, folded), which a text search reads with DynamoDB's
filter: a Query of that compact list (a few hundred bytes a life), never of the links themselves.

Measured and left: a list per character pair (an n-gram index) makes a text search read only
around its matches, but costs ~44 postings a life in each scope (~90 writes per new link), and
the embedded store of `make run` could not answer its Queries at 1,200 links.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from .model import Link, State

EVERY = "*"
# Of a long URL, its host and path are searched (not the scheme, a leading www., the query or
# the fragment: tracking parameters would double the index and find every campaign at once).
URL_SEARCHED = 300
# States a write of the link reveals (a PATCH, the expiry sweep, TTL); "active" is every other
# life, and a scheduled link becomes active, or a limited one exhausted, with no write at all:
# their lists hold the lives that may be in that state, and each is checked when listed.
_STATE_LISTS: dict[State, str] = {"disabled": "disabled", "expired": "expired", "exhausted": "limited",
                                  "scheduled": "scheduled"}
# By creation (newest or oldest first) or by visits (most or fewest first; among equals, newest
# or oldest first): visits as StatsFunction counted them, up to about a minute behind.
Sort = Literal["-created", "created", "-visits", "visits"]


def fold(text: str) -> str:
    """Text as the index compares it: compatibility forms folded (full-width Ａ as A) and case
    folded, so that 'Ｓale' finds 'sale'."""
    return unicodedata.normalize("NFKC", text).casefold()


def searched_url(url: str) -> str:
    """The part of a long URL a search looks in: host and path (stored URLs are WHATWG-serialised,
    so the host is lower case and the path starts at the first slash after it)."""
    rest = url.partition("://")[2]
    rest = rest.removeprefix("www.")
    return rest.split("?", 1)[0].split("#", 1)[0][:URL_SEARCHED]


def searchable(link: Link) -> str:
    """The text a search for `q` looks in (its folded q must be part of it): one line per field."""
    return fold("\n".join([link.title or "", searched_url(link.url), link.code, *link.tags]))


def tokens(link: Link, *, expired: bool) -> set[str]:
    """The lists a life of the link belongs to (`expired`: its expiry was announced, or TTL
    removed it: links/catalogue.py)."""
    found = {EVERY, f"domain:{link.domain}", *(f"tag:{tag}" for tag in link.tags)}
    if link.disabled:
        found.add("state:disabled")
    if expired:
        found.add("state:expired")
    if link.max_visits is not None:
        found.add("state:limited")
    if link.valid_since is not None:
        found.add("state:scheduled")
    return found


@dataclass(frozen=True)
class Search:
    """One listing's conditions: what GET /api/links takes."""

    q: str | None = None
    tag: str | None = None
    domain: str | None = None
    state: State | None = None
    sort: Sort = "-created"

    @property
    def by_visits(self) -> bool:
        return self.sort.endswith("visits")

    def required(self) -> list[str]:
        """The tokens every match holds: its tag's, its state's list, its domain's."""
        found: list[str] = []
        if self.tag is not None:
            found.append(f"tag:{self.tag}")
        if self.state in _STATE_LISTS:
            found.append(f"state:{_STATE_LISTS[self.state]}")
        if self.domain is not None:
            found.append(f"domain:{self.domain}")
        return found

    def lists(self) -> list[str]:
        """The token lists whose lives all hold every match, in creation order: `*` for a text
        search (whose filter reads its texts), else the lists of the filters (or `*`)."""
        return [EVERY] if self.q else self.required() or [EVERY]

    @property
    def text(self) -> str | None:
        """What the `*` list's filter looks for: q folded (case, full-width forms)."""
        return fold(self.q) if self.q else None

    def matches(self, link: Link, now: int) -> bool:
        """Whether a life (with its visits counted) is one this listing shows."""
        if self.tag is not None and self.tag not in link.tags:
            return False
        if self.domain is not None and link.domain != self.domain:
            return False
        if self.state is not None and link.state(now) != self.state:
            return False
        if self.q:
            wanted = fold(self.q)
            texts = (link.title or "", searched_url(link.url), *link.tags)
            return self.q == link.code or any(wanted in fold(text) for text in texts)
        return True
