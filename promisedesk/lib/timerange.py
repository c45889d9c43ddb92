"""The span of time promisedesk accepts: wide enough for any real case, narrow enough to
display in every time zone and to compile business calendars for."""

from __future__ import annotations

from datetime import UTC, date, datetime

from promisedesk.errors import DomainError

EARLIEST = datetime(1972, 1, 1, tzinfo=UTC)
LATEST = datetime(2190, 12, 31, tzinfo=UTC)


def check_in_range(moment: datetime | None, field: str) -> None:
    """Refuse a time outside 1972–2190 with a 400 naming the field."""
    if moment is not None and not (EARLIEST <= moment <= LATEST):
        raise DomainError("out_of_range", "times must lie between 1972 and 2190", field)


def day_in_range(day: date) -> bool:
    return EARLIEST.date() <= day <= LATEST.date()
