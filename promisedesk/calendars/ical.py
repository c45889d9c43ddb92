"""Holidays and make-up workdays from an iCalendar file.

All-day events are days off; an event whose summary or categories say it is a
working day (工作日, 上班, 补班, workday) is a make-up workday instead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import icalendar

WORKDAY_WORDS = ("workday", "working day", "工作日", "上班", "补班")


class BadICalendar(ValueError):
    pass


def days_from_ical(data: bytes | str) -> tuple[list[date], list[date]]:
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # the parser raises several kinds for garbage
        raise BadICalendar(f"not an iCalendar file: {exc}") from exc
    offs: set[date] = set()
    works: set[date] = set()
    for event in cal.walk("VEVENT"):
        start = event.decoded("DTSTART", None)
        if start is None:
            continue
        end = event.decoded("DTEND", None)
        first = start.date() if isinstance(start, datetime) else start
        last = (end.date() if isinstance(end, datetime) else end) if end else first + timedelta(days=1)
        words = " ".join([str(event.get("SUMMARY", "")), str(event.get("CATEGORIES", ""))]).lower()
        target = works if any(w in words for w in WORKDAY_WORDS) else offs
        day = first
        while day < max(last, first + timedelta(days=1)):
            target.add(day)
            day += timedelta(days=1)
    return sorted(offs - works), sorted(works)
