"""Validity periods (1d … permanent) and explicit expiry times, as epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from ..errors import InvalidInput

DAY = 86_400
HOUR = 3_600
HOUR_KEY = "%Y-%m-%dT%H"  # how a UTC hour is named in keys (stats rows, expiry slots): 2026-11-25T08


def hour_of(epoch: int) -> str:
    """The UTC hour a moment falls in, named as the keys name it."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime(HOUR_KEY)


# None means permanent: the item carries no expires_at, so TTL never removes it.
PRESETS: dict[str, int | None] = {
    "1d": DAY,
    "7d": 7 * DAY,
    "30d": 30 * DAY,
    "90d": 90 * DAY,
    "180d": 180 * DAY,
    "365d": 365 * DAY,
    "permanent": None,
}
# DynamoDB TTL ignores expiry values more than five years in the past; the future
# limit here just keeps typos like year 20260 out.
MAX_EXPIRY_SECONDS = 10 * 365 * DAY


def expiry_from_validity(validity: str, now: int) -> int | None:
    if validity not in PRESETS:
        raise InvalidInput.single("validity", f"must be one of {', '.join(PRESETS)}")
    seconds = PRESETS[validity]
    return None if seconds is None else now + seconds


def parse_moment(field: str, text: str) -> int:
    """Epoch seconds of an ISO 8601 time that names its offset (Z or +08:00)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput.single(field, "must be an ISO 8601 time such as 2026-12-31T23:59:59+08:00") from None
    if moment.tzinfo is None:
        raise InvalidInput.single(field, "must include a UTC offset (Z or +08:00)")
    try:
        return int(moment.timestamp())
    except (OverflowError, ValueError):  # the offset moves it past year 1 or 9999
        raise InvalidInput.single(field, "must be a time between the years 1 and 9999") from None


def expiry_from_timestamp(text: str, now: int) -> int:
    """An ISO 8601 time with an explicit offset, strictly in the future."""
    epoch = parse_moment("expires_at", text)
    if epoch <= now:
        raise InvalidInput.single("expires_at", "must be in the future")
    if epoch > now + MAX_EXPIRY_SECONDS:
        raise InvalidInput.single("expires_at", "must be within 10 years")
    return epoch


def iso(epoch: int | float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
