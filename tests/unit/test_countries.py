"""Countries without CloudFront: the redirect keeps only the visitor's network, and StatsFunction's
table (built from DB-IP Lite) names its country."""

from __future__ import annotations

import pytest

from shortlink.stats.countries import NOBODY, Countries, blocks
from shortlink.stats.visitors import network_of
from support import ROOT


@pytest.mark.parametrize("address, network", [
    ("114.114.114.114", "114.114.114.0"),
    ("8.8.8.8", "8.8.8.0"),
    ("2001:db8:1234:5678::9", "2001:db8:1234::"),
    ("::ffff:193.0.6.139", "193.0.6.0"),
    ("not an address", None),
    ("1.2.3", None),
])
def test_a_visit_keeps_the_network_never_the_address(address: str, network: str | None) -> None:
    assert network_of(address) == network


def test_each_block_takes_the_country_of_its_first_address_and_gaps_are_nobodys() -> None:
    # /24 blocks (shift 8): 0.0.0.0-0.0.1.255 AU, a range starting inside block 2, a gap, then CN
    ranges = [(0, 511, "AU"), (512 + 10, 767, "JP"), (1024, 2047, "CN")]
    assert blocks(ranges, 8) == [(0, "AU"), (2, NOBODY), (4, "CN")]  # block 2 starts in no range
    assert blocks([(0, 255, "AU"), (256, 511, "AU"), (512, 767, "US")], 8) == [(0, "AU"), (2, "US")]


@pytest.mark.parametrize("network, country", [
    ("114.114.114.0", "CN"), ("8.8.8.0", "US"), ("193.0.6.0", "NL"), ("1.2.3.0", "AU"),
    ("240e::", "CN"), ("10.0.0.0", None), ("2001:db8::", None), ("nonsense", None), (None, None),
])
def test_the_table_statsfunction_carries_names_countries(network: str | None, country: str | None) -> None:
    assert Countries(ROOT / "functions" / "shortlink" / "stats" / "countries.bin").of(network) == country


def test_the_committed_table_is_what_the_pinned_db_ip_package_gives() -> None:
    """make countries (scripts/countries.py) writes it from node_modules (npm ci installs the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("countries_script", ROOT / "scripts" / "countries.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert (ROOT / "functions" / "shortlink" / "stats" / "countries.bin").read_bytes() == script.build(), "run make countries"
    assert "db-ip.com" in Countries(ROOT / "functions" / "shortlink" / "stats" / "countries.bin").source
