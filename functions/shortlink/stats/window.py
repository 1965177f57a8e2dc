"""A window of the stream's visits, added up before any row is written.

The stream's event source hands StatsFunction its records in tumbling windows (template.yaml,
TumblingWindowInSeconds): every batch of a window comes with the state the previous one
returned, and the window's final invocation writes what the state holds — each (link life, UTC
hour) row, its visitor items and each life row once a window, however many batches brought its
visits. A link at ten visits a second is then a few writes a minute instead of a few a batch.
The state is plain JSON; Lambda keeps at most 1 MB of it a shard, so a window whose state would
pass STATE_BUDGET is written at once, as if it had ended.

What a row needs of its visits is kept added up: counts by dimension, bots by agent, the hour's
salted visitors (exact while few, else the sketch registers they set: visitors.py), and per
counting item (stream.Visit.source) the first and last visit number, so the final write can tell
visits the row already has (a window retried after its write) from new ones. A life's tally
holds exactly its hour rows' people visits counted on counters, so the state carries only the
hour rows and the life rows are made from them when the window is written.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .store import LIFE_ROW
from .stream import Batch, HourVisits, Visit
from .visitors import Newcomers

Numbers = dict[str, list[int]]  # per counting item: [first number, last number, how many]
HashOf = Callable[[Visit], str | None]  # a visit's salted visitor hash (record.Salts)
STATE_BUDGET = 900_000  # characters of state past which the window is written at once (Lambda: 1 MB)


@dataclass
class Pending:
    """One row's visits in this window, added up."""

    life: str
    hour: str
    link_key: str
    expires_at: int | None
    exhausted_at: int | None = None  # a ticketed link's: the tally at which its tickets are all used
    total: int = 0
    bots: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # "platform:ios" ... and "bot:Googlebot"
    people: Numbers = field(default_factory=dict)
    robots: Numbers = field(default_factory=dict)
    visitors: Newcomers = field(default_factory=Newcomers)  # an hour row's people, salted
    at: int = 0  # the latest visit (a moment)
    first: str = ""  # the first stream record that brought one (where Lambda retries from)
    sequence: str = ""  # the last

    def add(self, group: HourVisits, hashes: list[str | None]) -> None:
        """The group's visits, with each one's salted visitor hash (None for a bot or none)."""
        self.visitors.add(filter(None, hashes))
        for visit in group.visits:
            _span(self.robots if visit.bot else self.people, visit)
            if visit.bot:
                self.bots += 1
                self.counts[f"bot:{visit.agent.browser}"] += 1
                continue
            self.total += 1
            for kind, label in (("platform", visit.platform), ("app", visit.app), ("referrer", visit.referrer),
                                ("country", visit.country), ("browser", visit.agent.browser), ("os", visit.agent.os),
                                ("device", visit.agent.device)):
                if label:
                    self.counts[f"{kind}:{label}"] += 1
            self.at = max(self.at, visit.at)
        self._records(group.sequence_numbers)

    def _records(self, sequences: list[str]) -> None:
        for sequence in sequences:
            self.first = sequence if not self.first or int(sequence) < int(self.first) else self.first
            self.sequence = sequence if not self.sequence or int(sequence) > int(self.sequence) else self.sequence

    def tally(self, into: Pending | None) -> Pending | None:
        """Add this hour row's people visits counted on counters to its life's tally (`into`, or a
        new one): the life row's visits are exactly those, so the state need not carry it."""
        counted = {source: span for source, span in self.people.items() if source}
        if not counted:
            return into
        life = into or Pending(self.life, LIFE_ROW, self.link_key, self.expires_at)
        for source, (first, last, seen) in counted.items():
            before = life.people.get(source, [first, last, 0])
            life.people[source] = [min(before[0], first), max(before[1], last), before[2] + seen]
            life.total += seen
        life.at = max(life.at, self.at)
        life.exhausted_at = self.exhausted_at if self.exhausted_at is not None else life.exhausted_at
        life._records([s for s in (self.first, self.sequence) if s])
        return life

    # The state's names: short, as a window's state is at most 1 MB a shard (Lambda).
    _NAMES = (("life", "l"), ("hour", "h"), ("expires_at", "e"), ("exhausted_at", "x"), ("total", "t"), ("bots", "b"),
              ("counts", "c"), ("people", "p"), ("robots", "r"), ("at", "a"), ("first", "f"), ("sequence", "s"))

    def as_state(self) -> dict[str, Any]:
        """Its fields under short names, empty ones left out; the link's key is its life's head.
        Visit numbers as text: a counter's tickets pass 2**53, which JSON readers may round."""
        fields = {short: getattr(self, name) for name, short in self._NAMES}
        fields["c"], fields["v"] = dict(self.counts), self.visitors.to_state()
        fields["p"], fields["r"] = _spans_text(self.people), _spans_text(self.robots)
        return {short: value for short, value in fields.items() if value or short in ("l", "h")}

    @classmethod
    def from_state(cls, saved: dict[str, Any]) -> Pending:
        fields = {name: saved[short] for name, short in cls._NAMES if short in saved}
        return cls(**{**fields, "link_key": saved["l"].rpartition("#")[0], "expires_at": saved.get("e"),
                      "people": _spans_of(saved.get("p", {})), "robots": _spans_of(saved.get("r", {})),
                      "counts": Counter(saved.get("c", {})), "visitors": Newcomers.from_state(saved.get("v", []))})


def _spans_text(numbers: Numbers) -> dict[str, str]:
    return {source: " ".join(map(str, span)) for source, span in numbers.items()}


def _spans_of(saved: dict[str, str]) -> Numbers:
    return {source: [int(n) for n in text.split()] for source, text in saved.items()}


def _span(numbers: Numbers, visit: Visit) -> None:
    first, last, seen = numbers.get(visit.source, [visit.number, visit.number, 0])
    numbers[visit.source] = [min(first, visit.number), max(last, visit.number), seen + 1]


class Window:
    """The hour rows' visits of one window so far; the life rows' follow from them."""

    def __init__(self, pending: dict[str, Pending] | None = None) -> None:
        self.pending = pending or {}

    def add(self, batch: Batch, hash_of: HashOf) -> None:
        """A batch's visits (hash_of may raise StoreUnavailable, reading its day's salt: the
        window is then as it was)."""
        groups = [(group, [None if v.bot else hash_of(v) for v in group.visits]) for group in batch.hours.values()]
        for group, hashes in groups:
            key = f"{group.life}|{group.hour}"
            if key not in self.pending:
                self.pending[key] = Pending(group.life, group.hour, group.link_key, group.expires_at)
            row = self.pending[key]
            row.add(group, hashes)
            lived = batch.lives.get(group.life)
            row.exhausted_at = lived.exhausted_at if lived and lived.exhausted_at is not None else row.exhausted_at

    def rows(self) -> list[Pending]:
        """Every row the window writes: its hour rows, then each life's tally."""
        lives: dict[str, Pending | None] = {}
        for row in self.pending.values():
            lives[row.life] = row.tally(lives.get(row.life))
        return [*self.pending.values(), *filter(None, lives.values())]

    def visited(self) -> dict[str, str]:
        """The lives people visited in the window, each with the first stream record of its visits."""
        found: dict[str, str] = {}
        for row in self.pending.values():
            if row.total and row.hour != LIFE_ROW:
                found[row.life] = min((s for s in (found.get(row.life), row.first) if s), key=int, default="")
        return found

    def state(self) -> dict[str, Any]:
        return {"rows": [p.as_state() for p in self.pending.values()]}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> Window:
        rows = [Pending.from_state(saved) for saved in (state or {}).get("rows", [])]
        return cls({f"{p.life}|{p.hour}": p for p in rows})

    @staticmethod
    def too_big(state: dict[str, Any]) -> bool:
        """Whether its state (as `state()` wrote it) has grown past STATE_BUDGET: write it now.
        Measured as the runtime sends it (json's default separators, UTF-8)."""
        return len(json.dumps(state).encode()) > STATE_BUDGET
