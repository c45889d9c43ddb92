"""Properties of the business clock on random calendars, starts and durations.

Calendars have random windows per weekday (to the second, up to 24:00), random
holidays and make-up days near the start, in time zones with and without DST
(including zones that change at midnight or by half an hour). Starts are arbitrary
instants of 2020–2030 with microseconds, or instants close to a clock change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promisedesk.lib.businesstime import (
    MICROS,
    WEEKDAYS,
    CalendarRules,
    CompiledCalendar,
    from_micros,
    parse_weekly_hours,
    to_micros,
)

from . import oracle

ZONES = [
    "UTC",
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
    "Australia/Lord_Howe",  # a half-hour change
    "Pacific/Chatham",  # +12:45/+13:45
    "Asia/Kolkata",
]
FIRST = datetime(2020, 1, 1, tzinfo=UTC)
LAST = datetime(2030, 12, 31, tzinfo=UTC)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def transitions(zone_name: str) -> list[datetime]:
    """The instants of 2020–2030 at which the zone's UTC offset changes (to the hour)."""
    zone, found = ZoneInfo(zone_name), []

    def offset(moment: datetime) -> timedelta | None:
        return moment.astimezone(zone).utcoffset()

    day = FIRST
    while day < LAST:
        following = day + timedelta(days=1)
        if offset(day) != offset(following):
            hour = day
            while offset(hour) == offset(day):
                hour += timedelta(hours=1)
            found.append(hour)
        day = following
    return found


def _clock(seconds: int) -> str:
    if seconds == 86400:
        return "24:00"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if secs else f"{hours:02d}:{minutes:02d}"


# Window boundaries: quarter hours, any second, and often the small hours in which
# clocks change (00:00 in Santiago and Havana, 01:00 London, 02:00 New York and
# Sydney, 02:00–02:30 Lord Howe, 02:45–03:45 Chatham), so windows start, end or
# straddle skipped and repeated wall times.
CHANGE_HOURS = [m * 60 for m in (0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180, 210, 225, 240)]
boundary = st.one_of(
    st.integers(0, 96).map(lambda q: q * 900),
    st.integers(0, 86400),
    st.sampled_from(CHANGE_HOURS),
    st.sampled_from(CHANGE_HOURS),
)


@st.composite
def day_windows(draw: st.DrawFn) -> list[list[str]]:
    points = sorted(draw(st.sets(boundary, max_size=6)))
    if len(points) % 2:
        points = points[:-1]
    return [[_clock(a), _clock(b)] for a, b in zip(points[::2], points[1::2], strict=True)]


@st.composite
def instants(draw: st.DrawFn, zone_name: str) -> datetime:
    """Any instant of 2020–2030, or one within days of a clock change of the zone."""
    changes = transitions(zone_name)
    near_a_change: bool = draw(st.booleans())
    if changes and near_a_change:
        near = draw(st.sampled_from(changes))
        return near + timedelta(microseconds=draw(st.integers(-4 * 86400 * MICROS, 2 * 86400 * MICROS)))
    return draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))


@st.composite
def calendars(draw: st.DrawFn, zone: str, around: date) -> CalendarRules:
    raw = {name: draw(day_windows()) for name in WEEKDAYS}
    if not any(raw.values()):
        raw[draw(st.sampled_from(WEEKDAYS))] = [["09:00", "17:00"]]
    near = st.integers(-10, 60).map(lambda n: around + timedelta(days=n))
    holidays = draw(st.frozensets(near, max_size=15))
    extra = draw(st.frozensets(near, max_size=5)) - holidays
    return CalendarRules(timezone=zone, weekly=parse_weekly_hours(raw), holidays=holidays, extra_workdays=extra)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[CalendarRules, int]:
    """A calendar and a start (micros) near its holidays and, often, near its clock changes."""
    zone = draw(st.sampled_from(ZONES))
    start = draw(instants(zone))
    return draw(calendars(zone, start.date())), to_micros(start)


def week_micros(rules: CalendarRules) -> int:
    """Nominal business micros in a week (enough to size durations that are in reach)."""
    total = 0
    for name in WEEKDAYS:
        for begin, end in rules.weekly.get(name, ()):
            finish = 86400 if end is None else end.hour * 3600 + end.minute * 60 + end.second
            total += (finish - (begin.hour * 3600 + begin.minute * 60 + begin.second)) * MICROS
    return total


def durations(rules: CalendarRules, weeks: int = 20) -> st.SearchStrategy[int]:
    most = max(1, week_micros(rules) * weeks)
    return st.one_of(
        st.just(0),
        st.integers(1, most),
        st.integers(1, max(1, min(10 * 3600, most // MICROS))).map(lambda s: s * MICROS),  # whole seconds
    )


def window_of(clock: CompiledCalendar, moment_us: int) -> tuple[int, int] | None:
    """The compiled window that contains moment (start excluded, end included)."""
    for begin, end in zip(clock.starts, clock.ends, strict=True):
        if begin < moment_us <= end:
            return begin, end
    return None


@SETTINGS
@given(st.data())
def test_elapsed_from_start_to_due_is_the_duration(data: st.DataObject) -> None:
    # given a random calendar, start and duration
    rules, start = data.draw(scenarios())
    duration = data.draw(durations(rules))
    clock = CompiledCalendar(rules)
    # when
    due = clock.due_us(start, duration)
    # then
    assert due >= start
    assert clock.elapsed_us(start, due) == duration
    assert clock.due(from_micros(start), timedelta(microseconds=duration)) == from_micros(due)
    if duration:
        assert window_of(clock, due) is not None, "a due time lies inside a window or at its end"
        assert clock.elapsed_us(start, due - 1) == duration - 1, "due is the first instant with the duration"
    else:
        assert due == start


@SETTINGS
@given(st.data())
def test_due_is_monotone_in_duration_and_start(data: st.DataObject) -> None:
    rules, start = data.draw(scenarios())
    d1, d2 = sorted([data.draw(durations(rules)), data.draw(durations(rules))])
    later = start + data.draw(st.integers(0, 14 * 86400 * MICROS))
    clock = CompiledCalendar(rules)
    assert clock.due_us(start, d1) <= clock.due_us(start, d2)
    assert clock.due_us(start, d1) <= clock.due_us(later, d1)


@SETTINGS
@given(st.data())
def test_elapsed_is_additive_and_never_more_than_real_time(data: st.DataObject) -> None:
    rules, a = data.draw(scenarios())
    b = a + data.draw(st.integers(0, 40 * 86400 * MICROS))
    c = b + data.draw(st.integers(0, 400 * 86400 * MICROS))
    clock = CompiledCalendar(rules)
    ab, bc, ac = clock.elapsed_us(a, b), clock.elapsed_us(b, c), clock.elapsed_us(a, c)
    assert ab + bc == ac
    assert 0 <= ab <= b - a
    assert clock.elapsed_us(c, a) == 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_engine_agrees_with_a_day_by_day_oracle(data: st.DataObject) -> None:
    rules, start = data.draw(scenarios())
    duration = data.draw(durations(rules, weeks=2))
    end = start + data.draw(st.integers(0, 9 * 86400 * MICROS))
    clock = CompiledCalendar(rules)
    assert clock.elapsed_us(start, end) == oracle.elapsed(rules, start, end)
    assert clock.due_us(start, duration) == oracle.due(rules, start, duration)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_answers_do_not_depend_on_what_was_asked_before(data: st.DataObject) -> None:
    # given one clock warmed by questions about other years, and a fresh one
    rules, start = data.draw(scenarios())
    duration = data.draw(durations(rules))
    warmed = CompiledCalendar(rules)
    for moment in data.draw(st.lists(instants(rules.timezone), max_size=3)):
        warmed.due_us(to_micros(moment), duration)
    fresh = CompiledCalendar(rules)
    # then they agree
    assert warmed.due_us(start, duration) == fresh.due_us(start, duration)
    end = start + data.draw(st.integers(0, 800 * 86400 * MICROS))
    assert warmed.elapsed_us(start, end) == CompiledCalendar(rules).elapsed_us(start, end)


@SETTINGS
@given(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    st.integers(0, 400 * 86400 * MICROS),
)
def test_a_round_the_clock_calendar_counts_real_time(zone: str, start: datetime, length: int) -> None:
    rules = CalendarRules(timezone=zone, weekly=parse_weekly_hours({d: [["00:00", "24:00"]] for d in WEEKDAYS}))
    clock = CompiledCalendar(rules)
    begin = to_micros(start)
    assert clock.due_us(begin, length) == begin + length
    assert clock.elapsed_us(begin, begin + length) == length
    assert from_micros(begin) == start


def test_datetime_helpers_round_trip_to_the_microsecond() -> None:
    moment = datetime(2026, 3, 8, 1, 59, 59, 999_999, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert from_micros(to_micros(moment)) == moment
    assert to_micros(datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)) == 1
    assert to_micros(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1
