"""Listing an owner's links, newest first (an operator's: every link, in the table's order), in
pages with an opaque cursor."""

from __future__ import annotations

import base64
import binascii
import json

from ..clock import stamp
from ..errors import InvalidInput
from .access import Caller
from .model import Link
from .store import LinkStore

MAX_LIMIT = 100
# Filters are applied to what the index returns, so a selective filter can need several
# queries to fill a page; this bounds the work of one request (the cursor resumes).
MAX_QUERIES_PER_PAGE = 10


def encode_cursor(position: dict[str, str]) -> str:
    raw = json.dumps([position["link_id"], position["created_at"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, str]:
    """A cursor holds a position inside the caller's own listing only: the owner is never
    part of it, so no cursor can lead into another owner's links."""
    try:
        link_id, created_at = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(link_id, str) and isinstance(created_at, str) and "/" in link_id):
            raise ValueError
        (link_id + created_at).encode("utf-8")  # a lone surrogate is no position of ours
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise InvalidInput.single("cursor", "is not a cursor this API returned") from None
    return {"link_id": link_id, "created_at": created_at}


def list_links(store: LinkStore, caller: Caller, *, limit: int, cursor: str | None, now: int,
               tag: str | None = None, domain: str | None = None, state: str | None = None) -> tuple[list[Link], str | None]:
    def wanted(link: Link) -> bool:
        return ((tag is None or tag in link.tags) and (domain is None or link.domain == domain)
                and (state is None or link.state(now) == state))

    position = decode_cursor(cursor) if cursor else None
    page: list[Link] = []
    for _ in range(MAX_QUERIES_PER_PAGE):
        links, next_position = (store.list_all(limit, position) if caller.admin
                                else store.list_owned(caller.key_id, limit, position))
        for link in links:
            if wanted(link):
                page.append(link)
                if len(page) == limit:
                    done = next_position is None and link is links[-1]
                    return page, None if done else encode_cursor({"link_id": link.id.key, "created_at": stamp(link.created_at)})
        if next_position is None:
            return page, None
        position = next_position
    assert position is not None  # the loop only runs on while the index says there is more
    return page, encode_cursor(position)
