"""A link's expiry from a validity period (1d … permanent) or an explicit time. Both are whole
seconds (the item keeps expires_at and valid_since in epoch seconds, DynamoDB's TTL form), so
the link a create answers with is the link a later read finds."""

from __future__ import annotations

from ..clock import DAY, SECOND, parse_iso
from ..errors import InvalidInput
from ..settings import PRESETS

# DynamoDB TTL ignores expiry values more than five years in the past; the future
# limit here just keeps typos like year 20260 out.
MAX_EXPIRY = 10 * 365 * DAY


def expiry_from_validity(validity: str, now: int) -> int | None:
    if validity not in PRESETS:
        raise InvalidInput.single("validity", f"must be one of {', '.join(PRESETS)}")
    duration = PRESETS[validity]
    return None if duration is None else _whole_second(now + duration)


def _whole_second(moment: int) -> int:
    return moment - moment % SECOND


def parse_moment(field: str, text: str) -> int:
    """The moment an ISO 8601 time that names its offset (Z or +08:00) names."""
    moment = parse_iso(text)
    if moment is None:
        raise InvalidInput.single(field, "must be an ISO 8601 time with a UTC offset, such as 2026-12-31T23:59:59+08:00, "
                                         "between the years 1 and 9999")
    return _whole_second(moment)


def expiry_from_timestamp(text: str, now: int) -> int:
    """An ISO 8601 time with an explicit offset, strictly in the future."""
    moment = parse_moment("expires_at", text)
    if moment <= now:
        raise InvalidInput.single("expires_at", "must be in the future")
    if moment > now + MAX_EXPIRY:
        raise InvalidInput.single("expires_at", "must be within 10 years")
    return moment
