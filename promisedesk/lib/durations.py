"""ISO 8601 durations, the way the API writes them (PT24H, P3D, P1DT2H30M)."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$",
    re.ASCII,  # \d would otherwise take any script's digits (PT٣H)
)
# A promise measured in centuries is a typo, and such numbers overflow timedelta.
MAX_DURATION = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds.

    Years and months are refused: their length depends on the calendar, so a
    promise should say days instead.
    """
    if not isinstance(text, str):
        raise ValueError("a duration is an ISO 8601 string such as PT24H or P3D")
    match = _DURATION.match(text.strip().upper())
    if match is None:
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration such as PT24H, P3D or PT30M "
            "(years and months are not accepted; say days)"
        )
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    if any(v > 10**7 for v in parts.values()):
        raise ValueError(f"{text!r} is longer than any promise can be")
    value = timedelta(**parts)
    if value > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than ten years")
    return value


def format_duration(value: timedelta) -> str:
    """Write a non-negative timedelta in hours (PT24H, PT1H30M, PT0S), dropping fractions of a second.

    Hours rather than days: on a business calendar "one day" of working time is
    ambiguous, twenty-four working hours is not.
    """
    if value < timedelta(0):
        raise ValueError("a duration cannot be negative")
    total = value // timedelta(seconds=1)  # exact, unlike total_seconds() on long spans
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    clock += f"{seconds}S" if seconds else ""
    return "PT" + (clock or "0S")
