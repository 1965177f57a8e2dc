"""What a link is found by (links/search.py): text folded as people type it, the URL's host and
path, a code exactly, and the lists a listing walks."""

from __future__ import annotations

import pytest

from shortlink.links.search import EVERY, Search, searched_url, tokens
from support import new_link

CAMPAIGN = new_link(code="Sale1212", title="双十二大促 第3场", tags=["海报", "朋友圈"],
                    url="https://www.shop.example.com/campaign/1212?utm_source=poster#top")


@pytest.mark.parametrize("q, found", [
    ("双十二", True),  # Chinese: any part, no word boundaries
    ("十二大", True),
    ("ＳＨＯＰ", True),  # full-width and upper case fold to the host's letters
    ("example.com/camp", True),  # across host and path
    ("Sale1212", True),  # the code exactly
    ("sale1212", False),  # codes are case-sensitive, and no title holds it
    ("朋友", True),  # part of a tag
    ("utm_source", False),  # the query string is not searched
    ("www.", False),  # nor a leading www.
    ("双十一", False),
])
def test_q_matches_title_url_host_and_path_tags_and_the_code(q: str, found: bool) -> None:
    assert Search(q=q).matches(CAMPAIGN, now=0) is found


def test_the_searched_url_is_host_and_path() -> None:
    assert searched_url("https://www.shop.example.com/a/b?x=1#f") == "shop.example.com/a/b"
    assert searched_url("http://example.com") == "example.com"


def test_a_life_is_on_its_tag_domain_and_revealed_state_lists() -> None:
    assert tokens(CAMPAIGN, expired=False) == {EVERY, f"domain:{CAMPAIGN.domain}", "tag:海报", "tag:朋友圈"}
    limited = new_link(max_visits=5, disabled=True, valid_since=1)
    assert {"state:limited", "state:disabled", "state:scheduled", "state:expired"} <= tokens(limited, expired=True)


@pytest.mark.parametrize("search, lists", [
    (Search(), [EVERY]),
    (Search(q="春节", tag="海报"), [EVERY]),  # a text search reads the texts on the `*` list
    (Search(tag="海报", state="expired", domain="s.example.com"), ["tag:海报", "state:expired", "domain:s.example.com"]),
    (Search(state="exhausted"), ["state:limited"]),  # a limited life may be exhausted without a write
    (Search(state="active"), [EVERY]),
])
def test_a_listing_walks_the_narrowest_lists_that_hold_every_match(search: Search, lists: list[str]) -> None:
    assert search.lists() == lists


def test_filters_are_checked_on_the_life_as_it_is_now() -> None:
    assert Search(tag="海报").matches(CAMPAIGN, now=0)
    assert not Search(tag="海").matches(CAMPAIGN, now=0)  # a tag is whole
    assert not Search(state="disabled").matches(CAMPAIGN, now=0)
    assert not Search(domain="other.example").matches(CAMPAIGN, now=0)
