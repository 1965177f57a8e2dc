"""Writes functions/shortlink/stats/countries.bin, the IP-to-country table of StatsFunction and of the redirect's country rules, from DB-IP's IP to
Country Lite database as the npm package @ip-location-db/dbip-country carries it (package.json
pins its version; `npm ci` installs it). `make countries` runs this; a test fails when the
committed table is not what the installed package gives.

To refresh the data (DB-IP publishes monthly): raise the package's version in package.json,
`npm install`, `make countries`, and commit package.json, package-lock.json and the table.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))

from shortlink.stats.countries import V4_SHIFT, V6_SHIFT, blocks, pack  # noqa: E402

PACKAGE = ROOT / "node_modules" / "@ip-location-db" / "dbip-country"
OUTPUT = ROOT / "functions" / "shortlink" / "stats" / "countries.bin"


def _ranges(path: Path) -> list[tuple[int, int, str]]:
    with path.open(encoding="ascii", newline="") as rows:
        return sorted((int(start), int(end), code) for start, end, code in csv.reader(rows))


def build() -> bytes:
    version = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]
    source = f"DB-IP IP to Country Lite (CC BY 4.0, https://db-ip.com) via @ip-location-db/dbip-country {version}"
    return pack(source, blocks(_ranges(PACKAGE / "dbip-country-ipv4-num.csv"), V4_SHIFT),
                blocks(_ranges(PACKAGE / "dbip-country-ipv6-num.csv"), V6_SHIFT))


if __name__ == "__main__":
    OUTPUT.write_bytes(build())
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size / 1e6:.1f} MB)")
