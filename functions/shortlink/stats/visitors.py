"""Unique visitors without keeping who they were.

The redirect writes `visitor_id`: a keyed hash (the stack's pepper) of the source address and
User-Agent, never the address. StatsFunction re-keys it with a random salt of the day (the
stats time zone's day), kept in StatsTable only while that day's stream records can still
arrive and then deleted by TTL: once the salt is gone, nobody holding the tables and the pepper
can tell whether an address visited. The same visitor on two days is two different hashes, so
visitors are counted per day.

An hour row keeps the re-keyed hashes exactly up to EXACT_LIMIT; beyond, a HyperLogLog sketch
of SKETCH_BITS index bits (4,096 one-byte registers, standard error 1.04/sqrt(4096) = 1.6 %).
Days and ranges are unions of hour rows: exact sets unite exactly, sketches by the larger
register.
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
            value = int(text, 16)
            index, rest = value >> _REST, value & ((1 << _REST) - 1)
            rank = _REST - rest.bit_length() + 1  # position of the first 1 bit
            if rank > self.registers[index]:
                self.registers[index] = rank


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
