"""stats/window.py: a window's visits kept in Lambda's state between its invocations."""

from __future__ import annotations

import hashlib
import json

import pytest

from shortlink.stats import window as windows
from shortlink.stats.agents import Agent
from shortlink.stats.stream import Batch, HourVisits, Visit
from shortlink.stats.visitors import EXACT_LIMIT, REGISTERS, assembled
from shortlink.stats.window import Window

LIFE = "s.example.com/spring#2026-11-24T08:00:00.000Z"


def _batch(visits: int, links: int = 1, start: int = 1, referrers: int = 1) -> Batch:
    """`visits` people visits of each of `links` links in one hour, each a different visitor."""
    batch = Batch()
    for link in range(links):
        group = HourVisits(f"{LIFE}{link}", "2026-11-25T05", None, f"s.example.com/spring{link}")
        for number in range(start, start + visits):
            group.visits.append(Visit(number, 1_795_000_000_000 + number, False, "ios", "wechat", f"r{number % referrers}.example",
                                      "CN", Agent("Safari", "iOS", "mobile"), _visitor(link, number), f"#{number % 16}"))
            group.sequence_numbers.append(str(link * 1_000_000 + number))
        batch.hours[(group.life, group.hour)] = group
    return batch


def _visitor(link: int, number: int) -> str:
    return hashlib.sha256(f"{link}/{number}".encode()).hexdigest()[:16]


def _hash(visit: Visit) -> str | None:
    return visit.visitor


@pytest.mark.parametrize(("visits", "links", "referrers"), [(1, 1, 1), (150, 3, 40), (250, 2, 5), (5_000, 1, 20)])
def test_the_state_carries_the_window_whole_and_is_small(visits: int, links: int, referrers: int) -> None:
    window = Window()
    window.add(_batch(visits, links, referrers=referrers), _hash)
    state = window.state()
    again = Window.from_state(json.loads(json.dumps(state)))  # the next invocation's window
    assert again.state() == state
    for before, after in zip(window.pending.values(), again.pending.values(), strict=True):
        assert assembled(after.visitors.parts()).count() == assembled(before.visitors.parts()).count()
    # a visitor costs at most a hash (19 characters), a sketch register 5
    size = len(json.dumps(state, separators=(",", ":")))
    assert size <= links * (1_500 + 40 * referrers + 19 * min(visits, EXACT_LIMIT) + 5 * min(max(0, visits - EXACT_LIMIT) + EXACT_LIMIT, REGISTERS))


def test_a_window_past_the_budget_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    window = Window()
    window.add(_batch(50), _hash)
    monkeypatch.setattr(windows, "STATE_BUDGET", len(json.dumps(window.state()).encode()))  # as the runtime sends it
    assert not window.too_big(window.state())
    window.add(_batch(1, start=51), _hash)
    assert window.too_big(window.state())


def test_a_window_adds_up_its_batches_as_one() -> None:
    window = Window()
    window.add(_batch(30), _hash)
    window = Window.from_state(json.loads(json.dumps(window.state())))
    window.add(_batch(30, start=31), _hash)
    (row,) = window.pending.values()
    assert (row.total, row.counts["app:wechat"], assembled(row.visitors.parts()).count()) == (60, 60, 60)
    assert row.first == "1" and row.sequence == "60"
