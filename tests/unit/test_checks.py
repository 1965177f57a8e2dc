"""links/checks.py (with create and patch): whatever a caller sends, the answer is a link or an
InvalidInput naming fields, never another exception. Hypothesis generates the input, with the
shapes that once broke the server: unclosed IPv6 brackets, lone surrogates, far-off dates."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shortlink.errors import InvalidInput
from shortlink.links.access import Caller
from shortlink.links.create import build_link
from shortlink.links.identity import LinkId
from shortlink.links.listing import decode_cursor
from shortlink.links.patch import plan_patch
from shortlink.links.search import Search, Sort
from shortlink.stats.query import stats_range
from support import SETTINGS, new_link

NOW = 1_790_000_000_000  # in milliseconds
# Text with everything JSON can carry: lone surrogates included.
ANY_TEXT = st.text(st.characters(codec=None, categories=["L", "N", "P", "S", "Z", "Cs", "Cc"]), max_size=40)
URLISH = st.builds(lambda scheme, host, rest: f"{scheme}://{host}{rest}",
                   st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
                   st.text("[]:.@%0123456789abcdefx-", max_size=25) | st.sampled_from(["127.1", "2130706433", "[::1]", "s.example.com"]),
                   st.text("/?#[]%:@", max_size=10) | ANY_TEXT)
MOMENT = st.datetimes().map(lambda d: d.isoformat()) | st.builds(
    lambda d, offset: d.isoformat() + offset, st.datetimes(), st.sampled_from(["Z", "+23:59", "-23:59", "+08:00"])) | ANY_TEXT
FIELDS: dict[str, Any] = {
    "url": URLISH | ANY_TEXT,
    "domain": st.none() | st.sampled_from(["s.example.com", "S.EXAMPLE.COM", "x"]) | ANY_TEXT,
    "alias": st.none() | ANY_TEXT,
    "validity": st.none() | st.sampled_from(["1d", "permanent", "2d"]) | ANY_TEXT,
    "expires_at": st.none() | MOMENT,
    "valid_since": st.none() | MOMENT,
    "max_visits": st.none() | st.integers(),
    "redirect_status": st.sampled_from([301, 302, 303, 0]),
    "forward_query": st.booleans(),
    "title": st.none() | ANY_TEXT,
    "tags": st.none() | st.lists(ANY_TEXT, max_size=12),
    "password": st.none() | ANY_TEXT,
    "targets": st.none() | st.dictionaries(st.sampled_from(["ios", "android", "desktop", "watch"]), st.none() | URLISH, max_size=3),
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries(FIELDS))
def test_create_answers_a_link_or_names_fields(given_fields: dict[str, Any]) -> None:
    try:
        link = build_link(given_fields, SETTINGS, Caller("key"), NOW)
    except InvalidInput as invalid:
        assert invalid.errors and all(e.field and e.message for e in invalid.errors)
    else:
        json.dumps(link.to_body(NOW, SETTINGS), ensure_ascii=False).encode("utf-8")  # the body can be sent


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={**{k: v for k, v in FIELDS.items() if k not in ("domain", "alias")},
                                           "disabled": st.none() | st.booleans()}))
def test_patch_answers_a_plan_or_names_fields(changes: dict[str, Any]) -> None:
    try:
        plan_patch(changes, SETTINGS, LinkId("s.example.com", "abc"), NOW)
    except InvalidInput as invalid:
        assert invalid.errors


@settings(max_examples=300, deadline=None)
@given(st.one_of(ANY_TEXT, st.recursive(st.none() | st.text(max_size=5) | st.integers(), st.lists, max_leaves=50).map(
    lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode()),
    st.integers(0, 4000).map(lambda n: base64.urlsafe_b64encode(b"[" * n + b"]" * n).decode())),
       st.sampled_from(["-created", "created", "-visits", "visits"]))
def test_cursors_decode_or_are_refused(cursor: str, sort: Sort) -> None:
    try:
        decode_cursor(cursor, Search(sort=sort))
    except InvalidInput as invalid:
        assert [e.field for e in invalid.errors] == ["cursor"]


@settings(max_examples=300, deadline=None)
@given(st.none() | st.dates().map(str) | ANY_TEXT, st.none() | st.dates().map(str) | ANY_TEXT,
       st.sampled_from(["UTC", "Asia/Shanghai", "Asia/Kolkata", "Pacific/Kiritimati", "Nope/Zone", ""]) | ANY_TEXT,
       st.sampled_from(["day", "hour"]))
def test_stats_ranges_are_days_or_refused(start: str | None, end: str | None, tz: str, granularity: str) -> None:
    try:
        asked = stats_range(new_link(), start, end, NOW, tz, granularity)  # type: ignore[arg-type]
    except InvalidInput as invalid:
        assert {e.field for e in invalid.errors} <= {"from", "to", "tz"}
    else:
        assert 1 <= len(asked.utc_hours()) <= 366 * 24 + 2


@pytest.mark.parametrize("url", ["http://2130706433:3000/x", "http://0x7f.1:3000/", "http://[::ffff:127.0.0.1]:3000/",
                                 "http://sub.s.example.com/", "https://S.Example.Com./x"])
def test_own_domains_by_any_spelling_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match="own short domains"):
        build_link({"url": url}, SETTINGS, None, NOW)


@pytest.mark.parametrize("url", ["http://[::1]:3000/", "http://localhost:3000/", "http://0.0.0.0:3000/", "http://0:3000/",
                                 "http://127.1/", "http://0x7f.1/", "http://a.localhost/", "http://[::ffff:127.0.0.1]/",
                                 "http://10.1.2.3/", "http://167772161/", "http://[::ffff:10.9.9.9]/"])
def test_a_block_list_takes_names_addresses_and_networks_by_any_spelling(url: str) -> None:
    """The devserver's own machine (devserver/__main__.py, THIS_MACHINE) and a network."""
    machine = dataclasses.replace(SETTINGS, short_domains=("s.example.com",),
                                  blocked_hosts=("localhost", "127.0.0.1", "::1", "0.0.0.0", "10.0.0.0/8"))
    with pytest.raises(InvalidInput, match="blocked host"):
        build_link({"url": url}, machine, None, NOW)


def test_other_loopback_addresses_are_not_ours() -> None:
    assert build_link({"url": "http://127.0.0.2:3000/landing"}, SETTINGS, None, NOW).url == "http://127.0.0.2:3000/landing"
