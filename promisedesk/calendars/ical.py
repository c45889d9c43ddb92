"""Holidays and make-up workdays from an iCalendar file.

All-day events are days off; an event whose summary or categories say it is a
working day (工作日, 上班, 补班, workday) is a make-up workday instead. An event
covers the days from DTSTART up to DTEND (exclusive, as RFC 5545 has it for dates)
or DTSTART + DURATION; cancelled events are ignored. Recurrence rules are not
expanded: holiday feeds list each year's days as events of their own.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import icalendar

WORKDAY_WORDS = ("workday", "working day", "work day", "工作日", "上班", "补班")
# "Non-working day" names a day off, whatever it contains.
_NOT_WORKDAY = re.compile(r"\b(non|not an?|no)[\s-]*work|不上班|不用上班|非工作日", re.IGNORECASE)
# A feed of statutory days for a few decades fits easily; more is a mistake or an attack.
MAX_DAYS = 20_000
MAX_EVENT_DAYS = 366


class BadICalendar(ValueError):
    pass


def days_from_ical(data: bytes | str) -> tuple[list[date], list[date]]:
    """Return (days off, make-up workdays) listed in an iCalendar file.

    A day named both as a day off and as a workday is a workday (a feed lists the
    holiday period and the 补班 day that falls inside it).
    """
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # the parser raises several kinds for garbage
        raise BadICalendar(f"not an iCalendar file: {exc}") from exc
    if getattr(cal, "name", None) != "VCALENDAR":
        raise BadICalendar("not an iCalendar file: it has no VCALENDAR")
    offs: set[date] = set()
    works: set[date] = set()
    for event in cal.walk("VEVENT"):
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        days = _event_days(event)
        target = works if _is_workday(event) else offs
        target.update(days)
        if len(offs) + len(works) > MAX_DAYS:
            raise BadICalendar(f"the file lists more than {MAX_DAYS} days")
    return sorted(offs - works), sorted(works)


def _is_workday(event: icalendar.cal.Component) -> bool:
    categories = event.get("CATEGORIES", "")
    if hasattr(categories, "cats"):
        categories = " ".join(str(c) for c in categories.cats)
    elif isinstance(categories, list):
        categories = " ".join(" ".join(str(c) for c in getattr(item, "cats", [item])) for item in categories)
    words = f"{event.get('SUMMARY', '')} {categories}".lower()
    if _NOT_WORKDAY.search(words):
        return False
    return any(w in words for w in WORKDAY_WORDS)


def _as_date(value: object, what: str, summary: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise BadICalendar(f"event {summary!r}: {what} is not a date")


def _event_days(event: icalendar.cal.Component) -> list[date]:
    summary = str(event.get("SUMMARY", ""))
    try:
        start = event.decoded("DTSTART", None)
        end = event.decoded("DTEND", None)
        duration = event.decoded("DURATION", None) if end is None else None
    except Exception as exc:  # a malformed property value
        raise BadICalendar(f"event {summary!r}: {exc}") from exc
    if start is None:
        return []
    first = _as_date(start, "DTSTART", summary)
    if end is not None:
        last = _as_date(end, "DTEND", summary)
        if isinstance(end, datetime) and end.time() != datetime.min.time():
            last += timedelta(days=1)  # a timed event touches the day it ends on
    elif isinstance(duration, timedelta):
        finish = start + duration
        last = _as_date(finish, "DURATION", summary)
        if isinstance(finish, datetime) and finish.time() != datetime.min.time():
            last += timedelta(days=1)
    else:
        last = first + timedelta(days=1)
    last = max(last, first + timedelta(days=1))
    if (last - first).days > MAX_EVENT_DAYS:
        raise BadICalendar(f"event {summary!r} lasts more than a year")
    return [first + timedelta(days=n) for n in range((last - first).days)]
