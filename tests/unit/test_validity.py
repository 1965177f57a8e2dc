import pytest

from shortlink.clock import DAY, iso
from shortlink.errors import InvalidInput
from shortlink.links.validity import expiry_from_timestamp, expiry_from_validity
from shortlink.settings import PRESETS

NOW = 1_790_000_000_000  # 2026-09-21T14:13:20Z, in milliseconds


@pytest.mark.parametrize("name, days", [("1d", 1), ("7d", 7), ("30d", 30), ("90d", 90), ("180d", 180), ("365d", 365)])
def test_presets_expire_that_many_days_later(name: str, days: int) -> None:
    assert expiry_from_validity(name, NOW) == NOW + days * DAY


def test_permanent_has_no_expiry_and_unknown_presets_are_refused() -> None:
    assert expiry_from_validity("permanent", NOW) is None
    assert set(PRESETS) == {"1d", "7d", "30d", "90d", "180d", "365d", "permanent"}
    with pytest.raises(InvalidInput) as caught:
        expiry_from_validity("2d", NOW)
    assert caught.value.errors[0].field == "validity"


def test_expires_at_needs_an_offset_and_a_future_time() -> None:
    assert expiry_from_timestamp("2026-09-22T22:13:20+08:00", NOW) == NOW + DAY
    assert expiry_from_timestamp("2026-09-22T14:13:20Z", NOW) == NOW + DAY
    for bad, message in [("2026-09-22T13:33:20", "offset"), ("2026-09-21T14:13:20Z", "future"),
                         ("tomorrow", "ISO 8601"), ("2046-01-01T00:00:00Z", "10 years")]:
        with pytest.raises(InvalidInput, match=message):
            expiry_from_timestamp(bad, NOW)


def test_iso_is_utc_to_the_second() -> None:
    assert iso(NOW) == "2026-09-21T14:13:20Z" and iso(NOW + 999) == "2026-09-21T14:13:20Z" and iso(None) is None


def test_expiries_are_whole_seconds_as_the_item_keeps_them() -> None:
    assert expiry_from_validity("1d", NOW + 456) == NOW + DAY
    assert expiry_from_timestamp("2026-09-22T14:13:20.75Z", NOW) == NOW + DAY
