"""A link's identity: its short domain and its code, never a "domain/code" string built by hand."""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import stamp

COUNTER_MARK = "#"


@dataclass(frozen=True)
class LinkId:
    domain: str
    code: str  # case-sensitive

    @property
    def key(self) -> str:
        """The links table's partition key (`link_id`)."""
        return f"{self.domain}/{self.code}"

    @classmethod
    def from_key(cls, key: str) -> LinkId:
        """The identity a partition key names (a code never holds a slash; a domain may hold a port)."""
        domain, _, code = key.rpartition("/")
        return cls(domain, code)

    def life(self, created_at: int) -> str:
        """One life of the code, made at `created_at` (the key of its statistics rows): a code
        made again starts its statistics from zero."""
        return f"{self.key}#{stamp(created_at)}"

    def counter_key(self, counter: int) -> str:
        """The partition key of one of the link's visit counters (links/counters.py): beside the
        link's own item, never a link's key (a code holds no '#')."""
        return f"{self.key}{COUNTER_MARK}{counter}"

    @classmethod
    def of_counter(cls, key: str) -> tuple[LinkId, int] | None:
        """The link and counter number a visit counter's key names; None for a link's own key."""
        link_key, mark, counter = key.rpartition(COUNTER_MARK)
        return (cls.from_key(link_key), int(counter)) if mark and counter.isdigit() else None

    def __str__(self) -> str:
        return self.key
