"""How a visit limit is spread as tickets over a link's counters (links/tickets.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shortlink.links.tickets import TICKETS_PER_COUNTER, claim_order, rebalanced, shares, spread_over


@pytest.mark.parametrize("total, counters, expected", [
    (30_000, 16, [1875] * 16),
    (25, 16, [9, 8, 8] + [0] * 13),
    (3, 16, [3] + [0] * 15),
    (0, 16, [0] * 16),
    (17, 1, [17]),
])
def test_a_budget_is_spread_evenly_over_as_many_counters_as_it_fills(total: int, counters: int, expected: list[int]) -> None:
    assert shares(total, counters) == expected
    assert spread_over(total, counters) == max(1, sum(1 for n in expected if n)) or total == 0


@given(st.lists(st.integers(0, 5000), min_size=1, max_size=99), st.integers(0, 100_000))
def test_rebalancing_leaves_exactly_what_is_left_where_visits_look(held: list[int], left: int) -> None:
    change = rebalanced(held, left)
    after = [h + c for h, c in zip(held, change, strict=True)]
    assert sum(after) == left and min(after) >= 0
    looked_at = set(claim_order(left, len(held)))
    assert all(n in looked_at for n, tickets in enumerate(after) if tickets)  # a visit finds every ticket
    assert max(after) - min(after[:spread_over(left, len(held))]) <= 1


def test_a_visit_tries_each_counter_of_the_budget_once_in_random_order() -> None:
    orders = {tuple(claim_order(100 * TICKETS_PER_COUNTER, 16)) for _ in range(20)}
    assert all(sorted(order) == list(range(16)) for order in orders) and len(orders) > 1
