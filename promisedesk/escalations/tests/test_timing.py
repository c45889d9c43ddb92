"""Business time for escalations: when a threshold is reached, and staff told inside working hours only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promisedesk.calendars.compiled import clock_for
from promisedesk.calendars.models import BusinessCalendar
from promisedesk.conftest import SHANGHAI, TWO_WINDOWS
from promisedesk.escalations.models import Escalation
from promisedesk.escalations.timing import reach_us, release_at, threshold_us
from promisedesk.lib.businesstime import (
    ROUND_THE_CLOCK,
    WEEKDAYS,
    CalendarRules,
    CompiledCalendar,
    parse_weekly_hours,
    to_micros,
)
from promisedesk.notifications.models import OutboxMessage

from .conftest import Office, at

OFFICE = CompiledCalendar(CalendarRules(timezone="Asia/Shanghai", weekly=parse_weekly_hours(TWO_WINDOWS)))
HOUR = 3600 * 1_000_000


def _us(moment: datetime) -> int:
    return to_micros(moment)


# --- pure arithmetic -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "released"),
    [
        (at(6, 17, 36), at(6, 17, 36)),  # inside Friday's window: at once
        (at(6, 18), at(9, 9)),  # Friday's close: Monday's opening
        (at(6, 21, 30), at(9, 9)),  # Friday evening
        (at(7, 10), at(9, 9)),  # Saturday
        (at(2, 12), at(2, 13)),  # the lunch break starts: after lunch
        (at(2, 12, 30), at(2, 13)),  # during lunch
        (at(2, 8, 59), at(2, 9)),  # before opening
        (at(2, 9), at(2, 9)),  # the opening itself
    ],
)
def test_release_is_the_next_working_instant_of_the_office(moment: datetime, released: datetime) -> None:
    assert release_at(OFFICE, moment) == released


def test_release_is_immediate_round_the_clock() -> None:
    assert release_at(ROUND_THE_CLOCK, at(7, 3, 17)) == at(7, 3, 17)


def test_release_on_a_chinese_make_up_workday() -> None:
    # Saturday 14 February 2026 is worked before the Spring Festival (15–23 February)
    rules = CalendarRules(
        timezone="Asia/Shanghai",
        weekly=parse_weekly_hours(TWO_WINDOWS),
        holidays=frozenset(date(2026, 2, d) for d in range(15, 24)),
        extra_workdays=frozenset({date(2026, 2, 14), date(2026, 2, 28)}),
    )
    calendar = CompiledCalendar(rules)
    assert release_at(calendar, at(13, 18, month=2)) == at(14, 9, month=2)  # Friday evening → make-up Saturday
    assert release_at(calendar, at(14, 18, month=2)) == at(24, 9, month=2)  # then after the festival


def test_reach_replays_closed_segments_then_the_running_one() -> None:
    # 09:00–10:00 used, paused, running again since 14:00: 90 % of four hours is 3h36m
    segments = [[_us(at(2, 9)), _us(at(2, 10))]]
    need = threshold_us(4 * HOUR, Decimal(90))
    assert reach_us(OFFICE, segments=segments, running_since_us=_us(at(2, 14)), need_us=need) == _us(at(2, 16, 36))
    assert reach_us(OFFICE, segments=segments, running_since_us=None, need_us=need) is None  # paused below it
    early = threshold_us(4 * HOUR, Decimal(20))  # 48 minutes: reached inside the first segment
    assert reach_us(OFFICE, segments=segments, running_since_us=None, need_us=early) == _us(at(2, 9, 48))


def test_reach_crosses_lunch_and_the_weekend() -> None:
    need = threshold_us(4 * HOUR, Decimal(100))
    assert reach_us(OFFICE, segments=[], running_since_us=_us(at(2, 11)), need_us=need) == _us(at(2, 16))
    assert reach_us(OFFICE, segments=[], running_since_us=_us(at(6, 17)), need_us=need) == _us(at(9, 12))


# --- properties ----------------------------------------------------------------------

CLOCK_TIMES = [time(h, m) for h in range(6, 22) for m in (0, 30)]


@st.composite
def calendars(draw: Any) -> CalendarRules:
    weekly: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        chosen = sorted(set(draw(st.lists(st.sampled_from(CLOCK_TIMES), max_size=4))))
        pairs = [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in zip(chosen[::2], chosen[1::2], strict=False)]
        weekly[day] = pairs
    if not any(weekly.values()):
        weekly["wed"] = [["09:00", "17:00"]]
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    workdays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=5)) - holidays
    zone = draw(st.sampled_from(["Asia/Shanghai", "Europe/London", "America/New_York"]))
    return CalendarRules(zone, parse_weekly_hours(weekly), holidays, workdays)


def inside_a_window(rules: CalendarRules, moment: datetime) -> bool:
    """The oracle: the local wall time lies in one of that day's windows."""
    local = moment.astimezone(ZoneInfo(rules.timezone))
    # (windows lie between 06:00 and 22:00, clear of the hours DST changes skip or repeat)
    return any(
        begin <= local.time() and (end is None or local.time() < end) for begin, end in rules.windows_on(local.date())
    )


@settings(max_examples=300, deadline=None)
@given(rules=calendars(), moment=st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)))
def test_release_always_lies_inside_a_working_window_and_is_the_first(rules: CalendarRules, moment: datetime) -> None:
    calendar = CompiledCalendar(rules)
    released = release_at(calendar, moment)
    assert released >= moment
    assert inside_a_window(rules, released)
    assert calendar.elapsed(moment, released) == timedelta(0)  # no working time skipped on the way
    if inside_a_window(rules, moment):
        assert released == moment


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    opened=st.datetimes(datetime(2026, 3, 2), datetime(2026, 3, 15), timezones=st.just(SHANGHAI)),
    hours=st.sampled_from([1, 3, 4, 9, 30]),
    runs=st.lists(st.integers(0, 6 * 24 * 60), min_size=1, max_size=6),
)
def test_every_queued_staff_message_is_released_inside_a_working_window(
    office: Office, opened: datetime, hours: int, runs: list[int]
) -> None:
    if not _has(f"p{hours}"):
        office.clock.to(at(1, 0, month=2))  # in force before any case of the example opens
        office.promise(code=f"p{hours}", target=f"PT{hours}H")
    rules = BusinessCalendar.objects.get(pk=office.calendar["id"]).rules()
    with transaction.atomic():
        office.case(opened.replace(microsecond=0))
        for minutes in sorted(runs):
            office.run(opened + timedelta(minutes=minutes))
        messages = OutboxMessage.objects.filter(event_key__startswith="escalation:")
        for message in messages:
            escalation = Escalation.objects.get(pk=int(message.event_key.split(":")[1]))
            assert message.next_attempt_at is not None and inside_a_window(rules, message.next_attempt_at)
            assert escalation.fired_at is not None and escalation.fire_at is not None
            assert message.next_attempt_at >= escalation.fired_at >= escalation.fire_at
            assert message.next_attempt_at == escalation.notify_at
        transaction.set_rollback(True)


def _has(code: str) -> bool:
    from promisedesk.promises.models import Promise

    return Promise.objects.filter(code=code).exists()


def test_office_calendar_matches_the_api_calendar(office: Office) -> None:
    stored = clock_for(BusinessCalendar.objects.get(pk=office.calendar["id"]))
    assert stored.due(at(6, 17), timedelta(hours=2)) == OFFICE.due(at(6, 17), timedelta(hours=2)) == at(9, 10)
