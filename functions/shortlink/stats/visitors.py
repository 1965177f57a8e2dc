"""Unique visitors without keeping who they were.

The redirect writes `visitor_id`: a keyed hash (the stack's pepper) of the source address and
User-Agent, never the address. StatsFunction re-keys it with a random salt of the day (the
stats time zone's day), kept in StatsTable only while that day's stream records can still
arrive and then deleted by TTL: once the salt is gone, nobody holding the tables and the pepper
can tell whether an address visited. The same visitor on two days is two different hashes, so
visitors are counted per day.

An hour's visitors are kept in CHUNKS (8) items beside its row, a visitor in the one its hash's
top bits name: the re-keyed hashes exactly while an item holds at most CHUNK_EXACT_LIMIT (25),
then that item's eighth of a HyperLogLog sketch of SKETCH_BITS index bits (4,096 one-byte
registers in all, standard error 1.04/sqrt(4096) = 1.6 %; 512 bytes an item: one write unit).
So a batch's new visitors rewrite only the items they change, fewer and fewer as the sketch
fills (measured: 0.24 writes a visit when every visitor is new). Days and
ranges are unions of hours: exact sets unite exactly, sketches by the larger register.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from collections.abc import Iterable

HASH_HEX = 16  # 64 bits: collisions among a day's visitors of one link are negligible
EXACT_LIMIT = 200  # hashes an hour row keeps before it becomes a sketch (3.4 KB, the sketch is 4 KB)
SKETCH_BITS = 12
REGISTERS = 1 << SKETCH_BITS
_REST = 64 - SKETCH_BITS


CHUNK_BITS = 3
CHUNKS = 1 << CHUNK_BITS
CHUNK_REGISTERS = REGISTERS // CHUNKS
CHUNK_EXACT_LIMIT = EXACT_LIMIT // CHUNKS


NETWORK_BITS = {4: 24, 6: 48}  # what of an address a visit keeps: its /24 or /48, for its country


def network_of(source_ip: str) -> str | None:
    """The visitor's network (IPv4 /24, IPv6 /48) as its first address: what the visit carries to
    StatsFunction for its country (stats/countries.py). Never the address itself."""
    if "." in source_ip and ":" not in source_ip:  # IPv4, the common case, without ipaddress
        head, _, last = source_ip.rpartition(".")
        return f"{head}.0" if head.count(".") == 2 and last.isdigit() else None
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return network_of(str(address.ipv4_mapped))
    return str(ipaddress.ip_network(f"{address}/{NETWORK_BITS[address.version]}", strict=False).network_address)


def visitor_id(pepper: str, source_ip: str, user_agent: str | None) -> str:
    """What the redirect hands the stream: a keyed hash, not the address."""
    message = f"{source_ip}\n{user_agent or ''}".encode("utf-8", "surrogatepass")
    return hmac.new(pepper.encode("utf-8", "surrogatepass"), message, hashlib.sha256).hexdigest()[:HASH_HEX]


def salted(salt: bytes, visitor: str) -> str:
    """The day's hash of a visitor, as the statistics keep it."""
    return hmac.new(salt, visitor.encode("ascii", "replace"), hashlib.sha256).hexdigest()[:HASH_HEX]


class Visitors:
    """A set of salted visitor hashes: exact while small, a HyperLogLog sketch beyond."""

    def __init__(self, exact: Iterable[str] = (), sketch: bytes | bytearray | None = None) -> None:
        self.exact: set[str] | None = None if sketch is not None else set(exact)
        self.registers = bytearray(sketch) if sketch is not None else None
        if self.registers is not None:
            self._fill(exact)

    def add(self, hashes: Iterable[str], limit: float = EXACT_LIMIT) -> None:
        if self.exact is not None:
            self.exact.update(hashes)
            if len(self.exact) > limit:
                self._to_sketch()
        else:
            self._fill(hashes)

    def merge(self, other: Visitors) -> None:
        """Unite with another set (another hour): exact stays exact; any sketch makes a sketch."""
        if other.registers is not None:
            if self.exact is not None:
                self._to_sketch()
            assert self.registers is not None
            self.registers = bytearray(max(a, b) for a, b in zip(self.registers, other.registers, strict=True))
        elif other.exact:
            self.add(other.exact, limit=math.inf)  # unions of rows stay exact

    def count(self) -> int:
        if self.exact is not None:
            return len(self.exact)
        assert self.registers is not None
        return estimate(self.registers)

    def _to_sketch(self) -> None:
        self.registers = bytearray(REGISTERS)
        self._fill(self.exact or ())
        self.exact = None

    def _fill(self, hashes: Iterable[str]) -> None:
        assert self.registers is not None
        for text in hashes:
            index, rank = _register(text)
            if rank > self.registers[index]:
                self.registers[index] = rank


def _register(text: str) -> tuple[int, int]:
    """A hash's register in the sketch, and the rank it offers it (position of the first 1 bit)."""
    value = int(text, 16)
    index, rest = value >> _REST, value & ((1 << _REST) - 1)
    return index, _REST - rest.bit_length() + 1


def chunk_of(text: str) -> int:
    """The item of an hour's visitors that keeps this hash: its top bits (those of its register)."""
    return int(text, 16) >> (64 - CHUNK_BITS)


class Chunk:
    """One item of an hour's visitors: its hashes while few, else its part of the sketch."""

    def __init__(self, number: int, exact: Iterable[str] = (), registers: bytes | bytearray | None = None) -> None:
        self.number = number
        self.exact: set[str] | None = None if registers is not None else set(exact)
        self.registers = bytearray(registers) if registers is not None else None

    def absorb(self, part: Chunk) -> bool:
        """Take in a window's visitors of this item (hashes, or the sketch's registers they set);
        True when what the item keeps changed."""
        if part.exact is not None:
            if self.exact is None:
                return self._fill(part.exact)
            before = len(self.exact)
            self.exact.update(part.exact)
            if len(self.exact) <= CHUNK_EXACT_LIMIT:
                return len(self.exact) != before
            self._to_sketch()
            return True
        assert part.registers is not None
        changed = self.exact is not None
        if self.exact is not None:  # the window's visitors are a sketch: so is the item now
            self._to_sketch()
        assert self.registers is not None
        merged = bytearray(map(max, self.registers, part.registers))
        changed |= merged != self.registers
        self.registers = merged
        return changed

    def _to_sketch(self) -> None:
        hashes, self.exact, self.registers = self.exact or set(), None, bytearray(CHUNK_REGISTERS)
        self._fill(hashes)

    def _fill(self, hashes: Iterable[str]) -> bool:
        """Raise this item's registers by its hashes (its own: their top bits are its number)."""
        assert self.registers is not None
        changed = False
        for text in hashes:
            index, rank = _register(text)
            at = index - self.number * CHUNK_REGISTERS
            if rank > self.registers[at]:
                self.registers[at], changed = rank, True
        return changed


class Newcomers:
    """A window's visitors of one hour, as its state carries them between invocations: their
    hashes while at most EXACT_LIMIT, else only the sketch registers they set (a sparse map: a
    minute's visitors touch few of the 4,096)."""

    def __init__(self, exact: Iterable[str] = (), registers: dict[int, int] | None = None) -> None:
        self.exact: set[str] | None = None if registers is not None else set(exact)
        self.registers = registers

    def add(self, hashes: Iterable[str]) -> None:
        if self.exact is not None:
            self.exact.update(hashes)
            if len(self.exact) <= EXACT_LIMIT:
                return
            hashes, self.exact, self.registers = self.exact, None, {}
        assert self.registers is not None
        for text in hashes:
            index, rank = _register(text)
            if rank > self.registers.get(index, 0):
                self.registers[index] = rank

    def parts(self) -> list[Chunk]:
        """By the item that keeps them: hashes while exact, else each item's slice of the sketch
        (items they leave untouched are left out)."""
        if self.exact is not None:
            by_item: dict[int, set[str]] = {}
            for text in self.exact:
                by_item.setdefault(chunk_of(text), set()).add(text)
            return [Chunk(number, hashes) for number, hashes in sorted(by_item.items())]
        assert self.registers is not None
        slices: dict[int, bytearray] = {}
        for index, rank in self.registers.items():
            number, at = divmod(index, CHUNK_REGISTERS)
            slices.setdefault(number, bytearray(CHUNK_REGISTERS))[at] = rank
        return [Chunk(number, registers=part) for number, part in sorted(slices.items())]

    def to_state(self) -> list[str] | str:
        """Hashes as they are, registers as one string of 5 hex digits each (index, rank)."""
        if self.exact is not None:
            return sorted(self.exact)
        assert self.registers is not None
        return "".join(f"{index:03x}{rank:02x}" for index, rank in sorted(self.registers.items()))

    @classmethod
    def from_state(cls, saved: list[str] | str) -> Newcomers:
        if isinstance(saved, list):
            return cls(saved)
        return cls(registers={int(saved[at:at + 3], 16): int(saved[at + 3:at + 5], 16) for at in range(0, len(saved), 5)})


def assembled(chunks: Iterable[Chunk]) -> Visitors:
    """An hour's visitors from its items: exact while every item is, else one sketch."""
    chunks = list(chunks)
    if all(c.exact is not None for c in chunks):
        return Visitors(h for c in chunks for h in c.exact or ())
    registers = bytearray(REGISTERS)
    for chunk in chunks:
        if chunk.registers is not None:
            registers[chunk.number * CHUNK_REGISTERS:(chunk.number + 1) * CHUNK_REGISTERS] = chunk.registers
    whole = Visitors(sketch=registers)
    whole.add(h for c in chunks for h in c.exact or ())
    return whole


def estimate(registers: bytes | bytearray) -> int:
    """Ertl's improved estimator (2017, "New cardinality estimation algorithms for HyperLogLog
    sketches"): nearly unbiased from one visitor to billions, with no switch to linear counting
    and no table of bias corrections."""
    m = len(registers)
    counts = [0] * (_REST + 2)
    for rank in registers:
        counts[rank] += 1
    z = m * _tau(1 - counts[_REST + 1] / m)
    for k in range(_REST, 0, -1):
        z = 0.5 * (z + counts[k])
    z += m * _sigma(counts[0] / m)
    if math.isinf(z):
        return 0
    return round(m * m / (2 * math.log(2) * z))


def _sigma(x: float) -> float:
    if x == 1:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if z == previous:
            return z


def _tau(x: float) -> float:
    if x in (0, 1):
        return 0.0
    y, z = 1.0, 1 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if z == previous:
            return z / 3
