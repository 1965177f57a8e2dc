"""stats/visitors.py: keyed hashes instead of addresses; exact counts while small, a sketch beyond."""

from __future__ import annotations

import pytest

from shortlink.stats.visitors import EXACT_LIMIT, REGISTERS, Visitors, salted, visitor_id

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
