"""What an incident's typed values may be: the detection time against the declaration, the
numbers of users affected, and when those numbers look out of proportion. Pure functions: the
actions refuse with them, and the admin's forms and the API ask the same ones, so a bad value
is refused with the same words everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from .errors import InvalidField
from .formatting import duration

# A detection time a little ahead of the declaration is a skewed laptop clock, not a typo: it is
# taken as the declaration time.
CLOCK_SKEW = timedelta(minutes=5)

# Users affected, estimated or confirmed: a billion is more than any customer base here.
USERS_MOST = 1_000_000_000
USERS_TOO_LARGE = f"Too large: at most {USERS_MOST:,} users."
# A heartbeat's expected interval (at most a month) and the lateness allowed (at most a week).
HEARTBEAT_INTERVAL_MOST = 31 * 24 * 60
HEARTBEAT_GRACE_MOST = 7 * 24 * 60

# Confirmed users "out of proportion" with the estimate: more than ten times it, and more than
# this many users above it (3 confirmed against an estimate of 0 is no news).
PROPORTION_FACTOR = 10
PROPORTION_FLOOR = 100


def max_detection_lead() -> timedelta:
    return timedelta(days=settings.VIGIL_MAX_DETECTION_LEAD_DAYS)


def detection_time(detected_at: datetime | None, declared_at: datetime, *, now: datetime) -> datetime | None:
    """The detection time to store, or InvalidField naming `detected_at`: never in the future, never
    after the declaration (up to `CLOCK_SKEW` after it reads as the declaration time), and at most
    `VIGIL_MAX_DETECTION_LEAD_DAYS` before it."""
    if detected_at is None:
        return None
    if detected_at > now + CLOCK_SKEW:
        raise InvalidField("detected_at", "The detection time is in the future.")
    if detected_at > declared_at + CLOCK_SKEW:
        raise InvalidField(
            "detected_at",
            f"The detection time {detected_at:%Y-%m-%d %H:%M} UTC is after the declaration "
            f"({declared_at:%Y-%m-%d %H:%M} UTC): an incident is detected before it is declared.",
        )
    if detected_at > declared_at:
        return declared_at
    lead = declared_at - detected_at
    if lead > max_detection_lead():
        raise InvalidField(
            "detected_at",
            f"The detection time {detected_at:%Y-%m-%d %H:%M} UTC is {duration(lead)} before the declaration; "
            f"it may be at most {duration(max_detection_lead())} before it. Check the date.",
        )
    return detected_at


def users_refusal(value: int | None) -> str | None:
    """Why a number of users affected cannot be stored, or None."""
    if value is None:
        return None
    if value < 0:
        return "Cannot be negative."
    if value > USERS_MOST:
        return USERS_TOO_LARGE
    return None


def users_out_of_proportion(estimated: int | None, confirmed: int | None) -> str | None:
    """A warning (never a refusal) when far more users are confirmed than were estimated."""
    if estimated is None or confirmed is None:
        return None
    if confirmed > estimated * PROPORTION_FACTOR and confirmed > estimated + PROPORTION_FLOOR:
        return (
            f"{confirmed:,} users confirmed against {estimated:,} estimated: check both numbers "
            f"(and raise the estimate if it was too low)."
        )
    return None
