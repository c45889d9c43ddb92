"""The per-process cache of compiled calendars."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from promisedesk.calendars.compiled import clock_for, clock_for_id
from promisedesk.calendars.models import BusinessCalendar
from promisedesk.lib.businesstime import ROUND_THE_CLOCK

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def create(pk: int | None = None, **fields: Any) -> BusinessCalendar:
    now = datetime(2026, 3, 2, tzinfo=SHANGHAI)
    values = {
        "name": "C",
        "timezone": "Asia/Shanghai",
        "weekly_hours": {"mon": [["09:00", "18:00"]]},
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    return BusinessCalendar.objects.create(pk=pk, **values)


def test_no_calendar_is_round_the_clock(db: Any) -> None:
    assert clock_for(None) is ROUND_THE_CLOCK
    assert clock_for_id(None) is ROUND_THE_CLOCK


def test_compiled_calendar_is_reused_while_the_revision_holds(db: Any) -> None:
    calendar = create()
    first = clock_for(calendar)
    assert clock_for(calendar) is first
    assert clock_for_id(calendar.pk) is first


def test_a_new_revision_is_compiled_afresh(db: Any) -> None:
    calendar = create()
    old = clock_for(calendar)
    # another process changed it: the row's revision moved on, this process saw no save
    BusinessCalendar.objects.filter(pk=calendar.pk).update(weekly_hours={"tue": [["09:00", "18:00"]]}, revision=2)
    fresh = clock_for_id(calendar.pk)
    assert fresh is not old
    assert fresh.due(MONDAY_10, timedelta(hours=1)) == datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)


def test_a_row_that_reuses_an_id_is_not_answered_from_the_cache(db: Any) -> None:
    # given a compiled calendar whose row is then deleted and another one created with its id
    calendar = create(pk=41)
    assert clock_for(calendar).due(MONDAY_10, timedelta(hours=1)) == datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI)
    calendar.delete()
    replacement = create(pk=41, name="D", weekly_hours={"wed": [["09:00", "18:00"]]})
    assert replacement.revision == 1
    # then the new rules answer
    due = clock_for(replacement).due(MONDAY_10, timedelta(hours=1))
    assert due == datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)


def test_saving_a_calendar_drops_its_compiled_copy(db: Any) -> None:
    calendar = create()
    old = clock_for(calendar)
    calendar.holidays = ["2026-03-02"]
    calendar.save()
    fresh = clock_for(calendar)
    assert fresh is not old
    assert fresh.due(MONDAY_10, timedelta(hours=1)) == datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)


def test_a_rolled_back_change_leaves_no_compiled_copy_behind(db: Any, monkeypatch: Any) -> None:
    # given a change whose recomputation compiles the new rules and then fails
    from promisedesk.calendars import compiled
    from promisedesk.calendars.actions import do_change_calendar

    calendar = create()

    def fail(changed: BusinessCalendar, **kwargs: Any) -> int:
        clock_for(changed)
        raise RuntimeError("recompute failed")

    monkeypatch.setattr("promisedesk.commitments.recompute.recompute_open_clocks", fail)
    with pytest.raises(RuntimeError):
        do_change_calendar(calendar, now=MONDAY_10, reason="test", weekly_hours={"sat": [["09:00", "10:00"]]})
    # then nothing compiled from the rolled-back rules is kept
    assert calendar.pk not in compiled._cache
    fresh = BusinessCalendar.objects.get(pk=calendar.pk)
    assert fresh.revision == 1
    assert clock_for(fresh).due(MONDAY_10, timedelta(hours=1)) == datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI)
