"""benchmarks/partitions.py: the stand-in holds a key to DynamoDB's published per-key rates."""

from __future__ import annotations

import sys

from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from partitions import StandIn, arrivals, read_units, run, write_units


def test_units_follow_item_size_and_consistency() -> None:
    assert (write_units(900), write_units(1025), read_units(900, consistent=False), read_units(5000, consistent=True)) == (1, 2, 0.5, 2)


def test_one_key_takes_1000_writes_a_second_and_refuses_the_rest() -> None:
    store = StandIn()
    outcome = run(arrivals(2000, ["k"], 10), lambda key, at: store.write([key], 1, at))
    assert 10_000 <= outcome.served <= 11_100  # a second's worth held at the start, then 1,000 a second
    assert outcome.errors == outcome.offered - outcome.served and outcome.throttled > outcome.errors


def test_below_the_rate_nothing_is_refused_and_an_index_key_limits_its_base_writes() -> None:
    store = StandIn()
    fine = run(arrivals(900, ["a", "b"], 5), lambda key, at: store.write([key], 1, at))
    assert fine.errors == fine.throttled == 0
    shared = StandIn()  # two items, one index key: together they may not pass 1,000 a second
    both = run(arrivals(900, ["a", "b"], 5), lambda key, at: shared.write([key, "owner"], 1, at))
    assert both.errors > 0 and both.served <= 6_100
