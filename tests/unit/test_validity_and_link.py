import pytest

from shortlink.errors import InvalidInput
from shortlink.link import Link
from shortlink.validity import DAY, PRESETS, expiry_from_timestamp, expiry_from_validity, iso
from shortlink.visits import redirect_cache_control

NOW = 1_790_000_000  # 2026-09-21T14:13:20Z


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


def _link(**kwargs: object) -> Link:
    return Link(domain="s.example.com", code="abc", url="https://example.com", created_at="t", updated_at="t", **kwargs)


def test_state_follows_expiry_to_the_second() -> None:
    link = _link(expires_at=NOW + 10)
    assert link.state(NOW + 9) == "active"
    assert link.state(NOW + 10) == "expired"
    assert link.to_body(NOW)["expires_at"] == iso(NOW + 10) == "2026-09-21T14:13:30Z"
    assert _link().to_body(NOW)["expires_at"] is None


def test_redirect_cache_never_outlives_the_link() -> None:
    assert redirect_cache_control(_link(), NOW) == "private, max-age=60"
    assert redirect_cache_control(_link(expires_at=NOW + 5), NOW) == "private, max-age=5"
    assert redirect_cache_control(_link(expires_at=NOW), NOW) == "no-store"


def test_refusals_say_why_and_never_hide_a_race_as_404() -> None:
    from shortlink.errors import LinkGone, LinkNotFound, PasswordRequired, StoreUnavailable, TooManyAttempts, WrongPassword
    from shortlink.visits import refusal

    assert isinstance(refusal(_link(valid_since=NOW + 5), NOW, password_given=False), LinkNotFound)
    gone = refusal(_link(max_visits=2, visits=2), NOW, password_given=False)
    assert isinstance(gone, LinkGone) and gone.state == "exhausted" and gone.status == 410
    assert isinstance(refusal(_link(disabled=True), NOW, password_given=False), LinkGone)
    locked = _link(password_hash="scrypt$x")
    assert type(refusal(locked, NOW, password_given=False)) is PasswordRequired
    assert isinstance(refusal(locked, NOW, password_given=True), WrongPassword)
    throttled = refusal(_link(password_hash="scrypt$x", password_retry_at=NOW + 8), NOW, password_given=True)
    assert isinstance(throttled, TooManyAttempts) and throttled.retry_after_seconds == 8
    assert isinstance(refusal(_link(), NOW, password_given=False), StoreUnavailable)
