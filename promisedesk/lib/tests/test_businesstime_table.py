"""Due times and elapsed business time pinned by hand, case by case.

The Chinese calendar is Asia/Shanghai, Monday–Friday 09:00–12:00 and 13:00–18:00
(eight working hours a day), with the State Council's 2026 holidays and 调休
make-up workdays written out here so the expectations do not move with the data.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from promisedesk.lib.businesstime import (
    MICROS,
    ROUND_THE_CLOCK,
    WEEKDAYS,
    CalendarRules,
    CompiledCalendar,
    NoWorkingTime,
    parse_clock_time,
    parse_weekly_hours,
    to_micros,
)
from promisedesk.lib.durations import parse_duration

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TWO_WINDOWS = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
NINE_TO_FIVE = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
ALL_DAY = {d: [["00:00", "24:00"]] for d in WEEKDAYS}
OVERNIGHT = {d: [["00:00", "06:00"], ["22:00", "24:00"]] for d in WEEKDAYS}


def days(first: str, last: str) -> set[date]:
    start, stop = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(n) for n in range((stop - start).days + 1)}


# 2026 as published by the State Council (国办发明电〔2025〕7号).
CN_2026_HOLIDAYS = frozenset(
    days("2026-01-01", "2026-01-03")
    | days("2026-02-15", "2026-02-23")  # Spring Festival
    | days("2026-04-04", "2026-04-06")
    | days("2026-05-01", "2026-05-05")
    | days("2026-06-19", "2026-06-21")
    | days("2026-09-25", "2026-09-27")  # Mid-Autumn
    | days("2026-10-01", "2026-10-07")  # National Day
)
CN_2026_WORKDAYS = frozenset(
    date.fromisoformat(d) for d in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
)


def clock(weekly: dict, zone: str = "Asia/Shanghai", **days: Any) -> CompiledCalendar:
    return CompiledCalendar(CalendarRules(timezone=zone, weekly=parse_weekly_hours(weekly), **days))


@pytest.fixture(scope="module")
def cn() -> CompiledCalendar:
    return clock(TWO_WINDOWS, holidays=CN_2026_HOLIDAYS, extra_workdays=CN_2026_WORKDAYS)


def at(zone: ZoneInfo, *parts: Any) -> datetime:
    return datetime(*parts).replace(tzinfo=zone)


CN_CASES = [
    # (why, start, duration, due)
    ("inside a window", (2026, 3, 2, 10, 0), "PT4H", (2026, 3, 2, 15, 0)),
    ("ends exactly at the end of the morning: 12:00, not 13:00", (2026, 3, 2, 9, 0), "PT3H", (2026, 3, 2, 12, 0)),
    ("ends exactly at the end of the day: 18:00, not tomorrow", (2026, 3, 2, 9, 0), "PT8H", (2026, 3, 2, 18, 0)),
    (
        "one microsecond more goes to the next window",
        (2026, 3, 2, 9, 0),
        timedelta(hours=3, microseconds=1),
        (2026, 3, 2, 13, 0, 0, 1),
    ),
    ("start in the lunch break counts from 13:00", (2026, 3, 2, 12, 30), "PT1H", (2026, 3, 2, 14, 0)),
    ("start before opening counts from 09:00", (2026, 3, 2, 7, 0), "PT1H", (2026, 3, 2, 10, 0)),
    ("start after closing counts from tomorrow", (2026, 3, 2, 19, 0), "PT1H", (2026, 3, 3, 10, 0)),
    ("start at closing time counts from tomorrow", (2026, 3, 2, 18, 0), "PT1H", (2026, 3, 3, 10, 0)),
    ("start on a Saturday counts from Monday", (2026, 3, 7, 10, 0), "PT1H", (2026, 3, 9, 10, 0)),
    ("a second-exact start", (2026, 3, 2, 11, 59, 59), "PT2S", (2026, 3, 2, 13, 0, 1)),
    # National Day week: 1–7 Oct off, Thu 8 and Fri 9 worked, Sat 10 Oct a make-up day
    ("4h from Wed 30 Sep 16:00 jumps the National Day week", (2026, 9, 30, 16, 0), "PT4H", (2026, 10, 8, 11, 0)),
    ("16h from Wed 30 Sep 16:00", (2026, 9, 30, 16, 0), "PT16H", (2026, 10, 9, 16, 0)),
    ("18h from Wed 30 Sep 16:00 ends on Fri 9 Oct 18:00", (2026, 9, 30, 16, 0), "PT18H", (2026, 10, 9, 18, 0)),
    ("24h from Wed 30 Sep 16:00 is due on make-up Sat 10 Oct", (2026, 9, 30, 16, 0), "PT24H", (2026, 10, 10, 16, 0)),
    ("start on the holiday Thu 1 Oct", (2026, 10, 1, 10, 0), "PT1H", (2026, 10, 8, 10, 0)),
    ("start on Sat 3 Oct (holiday and weekend)", (2026, 10, 3, 10, 0), "PT8H", (2026, 10, 8, 18, 0)),
    ("Sun 11 Oct after the make-up Saturday is off again", (2026, 10, 10, 17, 0), "PT2H", (2026, 10, 12, 10, 0)),
    ("make-up Sun 20 Sep is worked", (2026, 9, 19, 10, 0), "PT2H", (2026, 9, 20, 11, 0)),
    ("Mid-Autumn Fri 25 Sep is off", (2026, 9, 24, 17, 0), "PT2H", (2026, 9, 28, 10, 0)),
    # Spring Festival: Sat 14 Feb worked, 15–23 Feb off
    ("make-up Sat 14 Feb is worked (exactly to its 12:00)", (2026, 2, 13, 17, 0), "PT4H", (2026, 2, 14, 12, 0)),
    ("past noon on make-up Sat 14 Feb", (2026, 2, 13, 17, 0), "PT5H", (2026, 2, 14, 14, 0)),
    ("Spring Festival week is jumped", (2026, 2, 13, 17, 0), "PT12H", (2026, 2, 24, 12, 0)),
    ("start on Sun 15 Feb (holiday)", (2026, 2, 15, 9, 0), "PT1H", (2026, 2, 24, 10, 0)),
    ("zero duration is due at start, even outside working time", (2026, 10, 1, 3, 0), "PT0H", (2026, 10, 1, 3, 0)),
]


def length(value: str | timedelta) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


@pytest.mark.parametrize(("why", "start", "duration", "due"), CN_CASES, ids=[c[0] for c in CN_CASES])
def test_cn_calendar_due(cn: CompiledCalendar, why: str, start: tuple, duration: str | timedelta, due: tuple) -> None:
    begin = at(SHANGHAI, *start)
    assert cn.due(begin, length(duration)) == at(SHANGHAI, *due), why
    assert cn.elapsed(begin, at(SHANGHAI, *due)) == length(duration)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ((2026, 2, 13, 9, 0), (2026, 2, 24, 9, 0), 16),  # Fri 13 + make-up Sat 14; then the festival
        ((2026, 9, 28, 0, 0), (2026, 10, 12, 0, 0), 6 * 8),  # 28–30 Sep, 8–10 Oct
        ((2026, 3, 2, 12, 0), (2026, 3, 2, 13, 0), 0),  # the lunch break
        ((2026, 3, 2, 11, 30), (2026, 3, 2, 13, 30), 1),
        ((2026, 1, 1, 0, 0), (2027, 1, 1, 0, 0), 8 * 248),  # 261 weekdays - 19 holiday weekdays + 6 make-up days
    ],
)
def test_cn_calendar_elapsed(cn: CompiledCalendar, start: tuple, end: tuple, hours: int) -> None:
    assert cn.elapsed(at(SHANGHAI, *start), at(SHANGHAI, *end)) == timedelta(hours=hours)


def test_working_days_of_2026_are_counted_right() -> None:
    # 261 weekdays, of which holidays fall on 19; plus six make-up weekend days
    weekdays = sum(1 for d in days("2026-01-01", "2026-12-31") if d.weekday() < 5)
    holiday_weekdays = sum(1 for d in CN_2026_HOLIDAYS if d.weekday() < 5)
    assert (weekdays, holiday_weekdays, len(CN_2026_WORKDAYS)) == (261, 19, 6)


def test_elapsed_is_exact_to_the_microsecond(cn: CompiledCalendar) -> None:
    start = at(SHANGHAI, 2026, 3, 2, 11, 59, 59, 999_999)
    assert cn.elapsed(start, at(SHANGHAI, 2026, 3, 2, 13, 0, 0, 1)) == timedelta(microseconds=2)
    assert cn.due(start, timedelta(microseconds=2)) == at(SHANGHAI, 2026, 3, 2, 13, 0, 0, 1)


def test_start_given_in_another_zone_is_the_same_instant(cn: CompiledCalendar) -> None:
    in_utc = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
    assert cn.due(in_utc, timedelta(hours=4)) == at(SHANGHAI, 2026, 10, 8, 11, 0)


# -- DST ---------------------------------------------------------------------------


def test_new_york_nine_to_five_keeps_wall_clock_hours_across_spring_forward() -> None:
    ny = clock(NINE_TO_FIVE, "America/New_York")
    friday = at(NEW_YORK, 2026, 3, 6, 16, 0)  # EST, -05:00
    due = ny.due(friday, timedelta(hours=2))
    assert due == at(NEW_YORK, 2026, 3, 9, 10, 0)  # EDT, -04:00
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert ny.elapsed(at(NEW_YORK, 2026, 3, 6, 9, 0), at(NEW_YORK, 2026, 3, 9, 17, 0)) == timedelta(hours=16)


def test_new_york_nine_to_five_keeps_wall_clock_hours_across_fall_back() -> None:
    ny = clock(NINE_TO_FIVE, "America/New_York")
    due = ny.due(at(NEW_YORK, 2026, 10, 30, 16, 0), timedelta(hours=2))
    assert due == at(NEW_YORK, 2026, 11, 2, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert ny.elapsed(at(NEW_YORK, 2026, 11, 2, 0, 0), at(NEW_YORK, 2026, 11, 3, 0, 0)) == timedelta(hours=8)


def test_new_york_round_the_clock_day_is_23_and_25_hours() -> None:
    ny = clock(ALL_DAY, "America/New_York")
    assert ny.elapsed(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)) == timedelta(hours=23)
    assert ny.elapsed(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2)) == timedelta(hours=25)
    # 24 business hours are 24 real hours, so the wall clock shows 13:00 the next day
    assert ny.due(at(NEW_YORK, 2026, 3, 7, 12, 0), timedelta(hours=24)) == at(NEW_YORK, 2026, 3, 8, 13, 0)
    assert ny.due(at(NEW_YORK, 2026, 10, 31, 12, 0), timedelta(hours=24)) == at(NEW_YORK, 2026, 11, 1, 11, 0)


def test_london_overnight_shift_loses_an_hour_when_clocks_go_forward() -> None:
    london = clock(OVERNIGHT, "Europe/London")
    saturday_night = at(LONDON, 2026, 3, 28, 22, 0)  # GMT
    sunday_morning = at(LONDON, 2026, 3, 29, 6, 0)  # BST
    assert london.elapsed(saturday_night, sunday_morning) == timedelta(hours=7)
    assert london.due(saturday_night, timedelta(hours=7)) == sunday_morning
    assert london.due(saturday_night, timedelta(hours=8)) == at(LONDON, 2026, 3, 29, 23, 0)


def test_london_overnight_shift_gains_an_hour_when_clocks_go_back() -> None:
    london = clock(OVERNIGHT, "Europe/London")
    assert london.elapsed(at(LONDON, 2026, 10, 24, 22, 0), at(LONDON, 2026, 10, 25, 6, 0)) == timedelta(hours=9)


def test_window_starting_in_the_skipped_hour_opens_when_the_clocks_jump() -> None:
    # 02:30 does not exist on 8 Mar 2026 in New York: the window opens at 03:00 EDT
    ny = clock({"sun": [["02:30", "04:00"]]}, "America/New_York")
    sunday = at(NEW_YORK, 2026, 3, 8)
    assert ny.due(sunday, timedelta(minutes=1)) == at(NEW_YORK, 2026, 3, 8, 3, 1)
    assert ny.elapsed(sunday, at(NEW_YORK, 2026, 3, 9)) == timedelta(hours=1)
    assert ny.elapsed(at(NEW_YORK, 2026, 3, 1), at(NEW_YORK, 2026, 3, 2)) == timedelta(hours=1, minutes=30)


def test_window_inside_the_skipped_hour_is_empty_that_day() -> None:
    ny = clock({"sun": [["02:10", "02:50"]]}, "America/New_York")
    assert ny.elapsed(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)) == timedelta(0)
    assert ny.due(at(NEW_YORK, 2026, 3, 8), timedelta(minutes=1)) == at(NEW_YORK, 2026, 3, 15, 2, 11)


def test_window_across_the_repeated_hour_lasts_an_hour_longer() -> None:
    # 01:00 happens twice on 1 Nov 2026: the window opens at the first one
    ny = clock({"sun": [["01:00", "02:00"]]}, "America/New_York")
    assert ny.elapsed(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2)) == timedelta(hours=2)
    assert ny.due(at(NEW_YORK, 2026, 11, 1), timedelta(hours=2)) == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/Santiago", date(2026, 9, 6), 23),  # 00:00 skipped
        ("America/Santiago", date(2026, 4, 4), 25),  # 23:00–24:00 repeated
        ("America/Havana", date(2026, 3, 8), 23),  # 00:00 skipped
        ("America/Havana", date(2026, 11, 1), 25),  # 00:00–01:00 repeated
        ("Australia/Lord_Howe", date(2026, 10, 4), 23.5),  # half an hour
        ("Europe/London", date(2026, 3, 29), 23),
    ],
)
def test_round_the_clock_day_length_where_clocks_change_at_midnight_or_by_half_an_hour(
    zone: str, day: date, hours: float
) -> None:
    tz = ZoneInfo(zone)
    all_day = clock(ALL_DAY, zone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(1), time(0), tzinfo=tz).astimezone(UTC)
    assert all_day.elapsed(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == timedelta(days=365)
    day_clock = clock({WEEKDAYS[day.weekday()]: [["00:00", "24:00"]]}, zone)
    assert day_clock.elapsed(start - timedelta(days=1), end + timedelta(days=1)) == timedelta(hours=hours)


# -- no working time --------------------------------------------------------------


def test_due_on_a_calendar_without_any_working_time_raises() -> None:
    empty = CompiledCalendar(CalendarRules(timezone="UTC", weekly={}))
    with pytest.raises(NoWorkingTime):
        empty.due(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))
    assert empty.due(datetime(2026, 1, 1, tzinfo=UTC), timedelta(0)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert empty.elapsed(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == timedelta(0)


def test_due_beyond_the_supported_years_raises() -> None:
    cn = clock(TWO_WINDOWS)
    with pytest.raises(NoWorkingTime):
        cn.due(datetime(2190, 6, 1, tzinfo=UTC), timedelta(days=3660))


def test_due_far_ahead_on_a_sparse_calendar_is_found() -> None:
    # one hour a week: 500 hours take about ten years
    sparse = clock({"wed": [["10:00", "11:00"]]})
    start = at(SHANGHAI, 2026, 1, 1)
    due = sparse.due(start, timedelta(hours=500))
    assert due.astimezone(SHANGHAI).time() == time(11, 0)
    assert sparse.elapsed(start, due) == timedelta(hours=500)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError):
        clock(TWO_WINDOWS).due(at(SHANGHAI, 2026, 3, 2), timedelta(seconds=-1))
    with pytest.raises(ValueError):
        ROUND_THE_CLOCK.due(at(SHANGHAI, 2026, 3, 2), timedelta(seconds=-1))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        clock(TWO_WINDOWS).due(datetime(2026, 3, 2), timedelta(hours=1))


# -- the built-in round-the-clock calendar ----------------------------------------


def test_round_the_clock_is_plain_arithmetic() -> None:
    start = at(NEW_YORK, 2026, 3, 7, 12, 0)
    assert ROUND_THE_CLOCK.due(start, timedelta(hours=24)) == at(NEW_YORK, 2026, 3, 8, 13, 0)
    assert ROUND_THE_CLOCK.elapsed(start, start + timedelta(hours=5)) == timedelta(hours=5)
    assert ROUND_THE_CLOCK.elapsed(start, start - timedelta(hours=5)) == timedelta(0)
    assert ROUND_THE_CLOCK.due(start, timedelta(0)) == start


# -- make-up workdays ----------------------------------------------------------------


def test_make_up_day_works_the_first_weekday_hours_unless_it_has_its_own() -> None:
    weekly = {"mon": [["09:00", "12:00"]], "tue": [["14:00", "15:00"]]}
    saturday, tuesday = date(2026, 2, 14), date(2026, 2, 17)
    rules = CalendarRules("UTC", parse_weekly_hours(weekly), extra_workdays=frozenset({saturday, tuesday}))
    assert rules.windows_on(saturday) == [(time(9), time(12))]
    assert rules.windows_on(tuesday) == [(time(14), time(15))]
    custom = CalendarRules(
        "UTC", parse_weekly_hours(weekly), extra_workdays=frozenset({saturday}), makeup_windows=[(time(10), time(11))]
    )
    assert custom.windows_on(saturday) == [(time(10), time(11))]


def test_a_day_both_holiday_and_make_up_day_is_worked() -> None:
    day = date(2026, 3, 2)
    rules = CalendarRules(
        "UTC", parse_weekly_hours(TWO_WINDOWS), holidays=frozenset({day}), extra_workdays=frozenset({day})
    )
    assert len(rules.windows_on(day)) == 2


# -- the compiled span ---------------------------------------------------------------


def test_span_edges_are_covered_whichever_year_is_asked_first() -> None:
    # a question about 2026 compiles 2025–2027; one at the very end of 2027 (already
    # 2028 in Shanghai) must still see the windows of 1 Jan 2028
    all_day = clock(ALL_DAY)
    all_day.due(at(SHANGHAI, 2026, 6, 1), timedelta(hours=1))
    start, end = datetime(2027, 12, 31, 20, tzinfo=UTC), datetime(2027, 12, 31, 23, tzinfo=UTC)
    assert all_day.elapsed(start, end) == timedelta(hours=3)
    assert all_day.due(start, timedelta(hours=3)) == end
    early = datetime(2025, 1, 1, 1, tzinfo=UTC)  # still 31 Dec 2024 in New York
    ny = clock(ALL_DAY, "America/New_York")
    ny.due(at(NEW_YORK, 2026, 6, 1), timedelta(hours=1))
    assert ny.elapsed(early - timedelta(hours=2), early) == timedelta(hours=2)


def test_concurrent_questions_on_one_compiled_calendar_agree_with_a_fresh_one() -> None:
    shared = clock(TWO_WINDOWS, holidays=CN_2026_HOLIDAYS, extra_workdays=CN_2026_WORKDAYS)
    starts = [at(SHANGHAI, 1990 + (n * 7) % 60, 1 + n % 12, 1 + n % 28, n % 24) for n in range(60)]
    expected = {
        s: clock(TWO_WINDOWS, holidays=CN_2026_HOLIDAYS, extra_workdays=CN_2026_WORKDAYS).due(s, timedelta(hours=37))
        for s in starts
    }
    wrong: list[datetime] = []

    def ask(offset: int) -> None:
        for s in starts[offset:] + starts[:offset]:
            if shared.due(s, timedelta(hours=37)) != expected[s]:
                wrong.append(s)

    threads = [threading.Thread(target=ask, args=(n * 7,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_micros_of_a_compiled_window_are_utc() -> None:
    cn = clock(TWO_WINDOWS)
    cn.ensure_years(2026, 2026)
    first = to_micros(at(SHANGHAI, 2026, 1, 1, 9, 0))
    assert cn.starts[0] == first
    assert cn.ends[0] - cn.starts[0] == 3 * 3600 * MICROS
    assert cn.cum_after[1] == 8 * 3600 * MICROS


# -- parsing weekly hours --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"monday": [["09:00", "12:00"]]}, "not a weekday"),
        ({"mon": [["12:00", "09:00"]]}, "does not end after it starts"),
        ({"mon": [["09:00", "09:00"]]}, "does not end after it starts"),
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
        ({"mon": [["09:00", "24:00"], ["10:00", "11:00"]]}, "overlap"),
        ({"mon": [["09:00", "12:00"], ["09:00", "12:00"]]}, "overlap"),
        ({"mon": [["25:00", "26:00"]]}, "hour must be in"),
        ({"mon": [["09:60", "10:00"]]}, "minute must be in"),
        ({"mon": [["9:00", "10:00"]]}, "not a time of day"),
        ({"mon": [["09:00", "24:30"]]}, "hour must be in"),
        ({"mon": [["24:00", "24:00"]]}, "cannot start at 24:00"),
        ({"mon": [["０９:００", "10:00"]]}, "not a time of day"),
        ({"mon": [["09:00"]]}, "a pair"),
        ({"mon": [[9, 10]]}, "not a time of day"),
        ({"mon": "09:00-12:00"}, "list of"),
        ([["09:00", "12:00"]], "an object"),
    ],
)
def test_bad_weekly_hours_are_refused(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_weekly_hours(raw)  # type: ignore[arg-type]


def test_weekly_hours_are_sorted_and_may_touch() -> None:
    parsed = parse_weekly_hours({"mon": [["13:00", "18:00"], ["09:00", "13:00"]], "sun": [["00:00:30", "24:00"]]})
    assert parsed["mon"] == [(time(9), time(13)), (time(13), time(18))]
    assert parsed["sun"] == [(time(0, 0, 30), None)]
    assert parse_clock_time("24:00") is None
    assert parse_clock_time("23:59:59") == time(23, 59, 59)
