"""Compiled calendars cached per process, keyed by id and revision.

Another process's change shows as a new revision. A calendar saved in this process
is also dropped from the cache at once (models.py connects `forget` to the save and
delete signals), so a row that reuses an id, as a test database rolled back between
tests does, can never be answered with another calendar's windows.
"""

from __future__ import annotations

import threading

from promisedesk.lib.businesstime import ROUND_THE_CLOCK, BusinessClock, CompiledCalendar

from .models import BusinessCalendar

_cache: dict[int, tuple[int, CompiledCalendar]] = {}
_lock = threading.Lock()


def clock_for(calendar: BusinessCalendar | None) -> BusinessClock:
    """The arithmetic for a calendar; None is round the clock."""
    if calendar is None:
        return ROUND_THE_CLOCK
    with _lock:
        hit = _cache.get(calendar.pk)
        if hit is not None and hit[0] == calendar.revision:
            return hit[1]
        compiled = CompiledCalendar(calendar.rules())
        _cache[calendar.pk] = (calendar.revision, compiled)
        return compiled


def clock_for_id(calendar_id: int | None) -> BusinessClock:
    """Like clock_for, loading the calendar row (one query) when it is not cached fresh."""
    if calendar_id is None:
        return ROUND_THE_CLOCK
    revision = BusinessCalendar.objects.filter(pk=calendar_id).values_list("revision", flat=True).first()
    hit = _cache.get(calendar_id)
    if hit is not None and hit[0] == revision:
        return hit[1]
    return clock_for(BusinessCalendar.objects.get(pk=calendar_id))


def forget(calendar_id: int | None) -> None:
    """Drop a calendar's compiled copy; the next clock_for compiles it afresh."""
    if calendar_id is None:
        return
    with _lock:
        _cache.pop(calendar_id, None)
