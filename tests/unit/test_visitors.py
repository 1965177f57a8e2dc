"""stats/visitors.py: keyed hashes instead of addresses; exact counts while small, a sketch beyond."""

from __future__ import annotations

import json

import pytest

from shortlink.stats.visitors import CHUNKS, EXACT_LIMIT, REGISTERS, Chunk, Newcomers, Visitors, assembled, salted, visitor_id

SALT = b"s" * 32


def _hashes(n: int, start: int = 0) -> list[str]:
    return [salted(SALT, visitor_id("pepper", f"10.0.{i >> 8 & 255}.{i & 255}", "UA")) for i in range(start, start + n)]


def test_the_hash_hides_the_address_and_depends_on_key_address_and_agent() -> None:
    one = visitor_id("pepper", "203.0.113.7", "Mozilla/5.0")
    assert len(one) == 16 and "203" not in one
    assert one == visitor_id("pepper", "203.0.113.7", "Mozilla/5.0")
    assert len({one, visitor_id("other", "203.0.113.7", "Mozilla/5.0"), visitor_id("pepper", "203.0.113.8", "Mozilla/5.0"),
                visitor_id("pepper", "203.0.113.7", "curl/8")}) == 4
    assert salted(b"day-1", one) != salted(b"day-2", one)  # a new day's salt: a new hash


def test_small_sets_are_exact_and_unite_exactly() -> None:
    morning, evening = Visitors(_hashes(50)), Visitors(_hashes(50, start=30))
    day = Visitors()
    day.merge(morning)
    day.merge(evening)
    assert (morning.count(), day.count(), day.exact is not None) == (50, 80, True)


def test_past_the_limit_a_set_becomes_a_sketch_within_its_error() -> None:
    visitors = Visitors(_hashes(EXACT_LIMIT))
    assert visitors.exact is not None
    visitors.add(_hashes(1, start=EXACT_LIMIT))
    assert visitors.exact is None and visitors.registers is not None and len(visitors.registers) == REGISTERS
    assert abs(visitors.count() - (EXACT_LIMIT + 1)) <= 0.05 * EXACT_LIMIT
    visitors.add(_hashes(EXACT_LIMIT))  # the same visitors again change nothing
    assert abs(visitors.count() - (EXACT_LIMIT + 1)) <= 0.05 * EXACT_LIMIT


@pytest.mark.parametrize("n", [1_000, 10_000])
def test_the_sketch_counts_within_five_percent(n: int) -> None:
    sketch = Visitors(sketch=bytes(REGISTERS))
    sketch.add(_hashes(n))
    assert abs(sketch.count() - n) <= 0.05 * n


def test_a_sketch_unites_with_exact_sets_and_other_sketches() -> None:
    big = Visitors(sketch=bytes(REGISTERS))
    big.add(_hashes(5_000))
    day = Visitors(_hashes(100, start=4_950))  # 50 of them already in the sketch
    day.merge(big)
    assert day.exact is None and abs(day.count() - 5_050) <= 0.05 * 5_050
    empty = Visitors(sketch=bytes(REGISTERS))
    assert empty.count() == 0


def _items_after(windows: list[list[str]]) -> tuple[Visitors, int]:
    """An hour's items after each window's visitors went through a window's state into them;
    and how many item writes that took."""
    items = {n: Chunk(n) for n in range(CHUNKS)}
    writes = 0
    for hashes in windows:
        window = Newcomers()
        window.add(hashes)
        for part in Newcomers.from_state(json.loads(json.dumps(window.to_state()))).parts():
            writes += items[part.number].absorb(part)
    return assembled(items.values()), writes


@pytest.mark.parametrize(("sizes", "exact"), [((9,), True), ((60, 40), True), ((150, 150), False), ((3_000, 2_000, 5), False)])
def test_windows_through_state_and_items_count_what_the_visitors_are(sizes: tuple[int, ...], exact: bool) -> None:
    windows, start = [], 0
    for size in sizes:
        windows.append(_hashes(size, start=start))
        start += size
    hour, writes = _items_after(windows)
    one_set = Visitors(h for w in windows for h in w)  # the same visitors kept in one set
    assert (hour.exact is not None) == exact
    assert hour.count() == one_set.count() if exact else abs(hour.count() - start) <= 0.05 * start
    assert writes <= CHUNKS * len(sizes)  # an item written at most once a window
    again, _ = _items_after(windows + windows)  # the same windows again (a retry): no one twice
    assert again.count() == hour.count()


def test_an_item_left_unchanged_by_a_window_is_not_written() -> None:
    first = _hashes(5_000)
    item = Chunk(3)
    window = Newcomers()
    window.add(first)
    part = next(p for p in window.parts() if p.number == 3)
    assert item.absorb(part) and not item.absorb(part)
