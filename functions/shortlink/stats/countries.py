"""Countries of visits without CloudFront: a compact IP-to-country table in the core layer, read by
StatsFunction (each visit's country) and by the redirect (only for a link with a country rule).

The redirect records only the visitor's network (its IPv4 /24 or IPv6 /48: stats/visitors.py,
network_of), never the address; StatsFunction looks that network's first address up here. The
table is built from DB-IP's IP to Country Lite database (CC BY 4.0, https://db-ip.com; refreshed
monthly upstream) by scripts/countries.py, keyed at the same granularity: for each /24 (IPv4)
or /48 (IPv6) block, the country of the block's first address, runs of equal countries merged.

File layout (zlib-compressed): a JSON header line ({"source", "codes", "v4", "v6"}), then the
IPv4 block numbers (uint32, ascending), their country indexes (uint8), the IPv6 block numbers
(uint64, ascending) and their country indexes. "--" marks space no country holds.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
import sys
import zlib
from array import array
from pathlib import Path
from typing import Any

NOBODY = "--"
V4_SHIFT, V6_SHIFT = 8, 80  # the blocks: a /24 and a /48


class Countries:
    """The table, read at the first lookup (a few tens of milliseconds, once per instance)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tables: tuple[list[str], array[int], bytes, array[int], bytes] | None = None

    def _load(self) -> tuple[list[str], array[int], bytes, array[int], bytes]:
        if self._tables is None:
            self._tables = unpack(zlib.decompress(self.path.read_bytes()))
        return self._tables

    def of(self, network: str | None) -> str | None:
        """The country (ISO 3166 code) of a network the redirect recorded; None when nobody knows."""
        if not network:
            return None
        try:
            address = ipaddress.ip_address(network)
        except ValueError:
            return None
        codes, v4_keys, v4_codes, v6_keys, v6_codes = self._load()
        keys, found = (v4_keys, v4_codes) if address.version == 4 else (v6_keys, v6_codes)
        block = int(address) >> (V4_SHIFT if address.version == 4 else V6_SHIFT)
        index = bisect.bisect_right(keys, block) - 1
        code = codes[found[index]] if index >= 0 else NOBODY
        return None if code == NOBODY else code

    def codes(self) -> set[str]:
        """Every country the table gives."""
        return set(self._load()[0]) - {NOBODY}

    @property
    def source(self) -> str:
        return str(self._header()["source"])

    def _header(self) -> dict[str, Any]:
        header: dict[str, Any] = json.loads(zlib.decompress(self.path.read_bytes()).split(b"\n", 1)[0])
        return header


def _array(kind: str, data: bytes) -> array[int]:
    values = array(kind)
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def unpack(data: bytes) -> tuple[list[str], array[int], bytes, array[int], bytes]:
    line, _, body = data.partition(b"\n")
    header = json.loads(line)
    v4, v6 = int(header["v4"]), int(header["v6"])
    at = 0
    parts = []
    for size in (4 * v4, v4, 8 * v6, v6):
        parts.append(body[at:at + size])
        at += size
    return list(header["codes"]), _array("I", parts[0]), parts[1], _array("Q", parts[2]), parts[3]


def pack(source: str, v4: list[tuple[int, str]], v6: list[tuple[int, str]]) -> bytes:
    """The file for blocks (block number, country), each list ascending."""
    codes = sorted({code for _, code in v4 + v6})
    index = {code: i for i, code in enumerate(codes)}
    header = json.dumps({"source": source, "codes": codes, "v4": len(v4), "v6": len(v6)}, separators=(",", ":")).encode()
    parts = [header, b"\n"]
    for blocks, kind in ((v4, "I"), (v6, "Q")):
        keys = array(kind, [block for block, _ in blocks])
        if sys.byteorder != "little":
            keys.byteswap()
        parts += [keys.tobytes(), bytes(index[code] for _, code in blocks)]
    return zlib.compress(b"".join(parts), 9)


def blocks(ranges: list[tuple[int, int, str]], shift: int) -> list[tuple[int, str]]:
    """(block number, country) from inclusive address ranges in ascending order: each block takes
    the country of its first address (the range holding it), gaps are NOBODY, and consecutive
    blocks of one country are one entry."""
    found: list[tuple[int, str]] = []
    next_free = 0  # the first address no range has covered yet

    def add(block: int, code: str) -> None:
        if found and found[-1][0] == block:
            found[-1] = (block, code)
        elif not found or found[-1][1] != code:
            found.append((block, code))

    for start, end, code in ranges:
        if start > next_free:
            first_block = -(-next_free >> shift)
            if first_block <= (start - 1) >> shift:
                add(first_block, NOBODY)
        first_block = -(-start >> shift)  # the first block that starts inside this range
        if first_block <= end >> shift:
            add(first_block, code)
        next_free = max(next_free, end + 1)
    return found


# The table the core layer carries (scripts/countries.py writes it; read at the first lookup).
COUNTRIES = Countries(Path(__file__).with_name("countries.bin"))
