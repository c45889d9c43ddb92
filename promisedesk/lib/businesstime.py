"""Exact business-time arithmetic on working windows.

A calendar is compiled into a sorted table of working windows in UTC microseconds,
with the business time accumulated before each window. Due times and elapsed
business time are then two binary searches, whatever the distance: no walking
minute by minute or day by day.

Local times are resolved in the calendar's time zone day by day, so a window keeps
its wall-clock hours across a DST change and simply lasts an hour more or less.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MICROS = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How far a computation may reach for working time before it gives up: a calendar
# whose rules leave no working time for this long is treated as having none.
MAX_SEARCH_YEARS = 30
FIRST_YEAR, LAST_YEAR = 1971, 2199


class NoWorkingTime(ValueError):
    """The calendar has no working time where the computation needs some."""


Window = tuple[time, time | None]  # end None means midnight at the end of the day


@dataclass(frozen=True)
class CalendarRules:
    """What a business calendar says, independent of storage.

    `weekly` maps mon..sun to working windows; `holidays` are dates off whatever
    the weekday; `extra_workdays` are dates worked whatever the weekday (China's
    调休), using `makeup_windows` (by default the first weekday that has hours).
    """

    timezone: str
    weekly: Mapping[str, Sequence[Window]]
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    makeup_windows: Sequence[Window] | None = None

    def windows_on(self, day: date) -> Sequence[Window]:
        if day in self.extra_workdays:
            return self.makeup_windows if self.makeup_windows is not None else self.default_windows
        if day in self.holidays:
            return ()
        return self.weekly.get(WEEKDAYS[day.weekday()], ())

    @property
    def default_windows(self) -> Sequence[Window]:
        for name in WEEKDAYS:
            if self.weekly.get(name):
                return self.weekly[name]
        return ()

    def has_weekly_hours(self) -> bool:
        return any(self.weekly.get(name) for name in WEEKDAYS)


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    delta = moment - EPOCH
    return (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _local_micros(day: date, at: time | None, zone: ZoneInfo) -> int:
    if at is None:
        moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    else:
        moment = datetime.combine(day, at, tzinfo=zone)
    # Round-trip through UTC so a wall time that does not exist (the hour skipped in
    # spring) lands on the instant just after the gap instead of a fictitious one.
    return to_micros(moment.astimezone(UTC))


@dataclass
class CompiledCalendar:
    """Working windows of a span of years, with cumulative business time."""

    rules: CalendarRules
    first_year: int = 0
    last_year: int = -1
    starts: array = field(default_factory=lambda: array("q"))
    ends: array = field(default_factory=lambda: array("q"))
    cum_before: array = field(default_factory=lambda: array("q"))
    cum_after: array = field(default_factory=lambda: array("q"))

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.rules.timezone)

    # -- building -------------------------------------------------------------
    def _windows_between(self, first: int, last: int) -> Iterable[tuple[int, int]]:
        day = date(first, 1, 1)
        stop = date(last + 1, 1, 1)
        one = timedelta(days=1)
        while day < stop:
            for begin, end in self.rules.windows_on(day):
                start_us = _local_micros(day, begin, self._zone)
                end_us = _local_micros(day, end, self._zone)
                if end_us > start_us:
                    yield start_us, end_us
            day += one

    def ensure_years(self, first: int, last: int) -> None:
        """Compile at least the years first..last (clamped to the supported range)."""
        first, last = max(first, FIRST_YEAR), min(last, LAST_YEAR)
        if self.last_year >= self.first_year and first >= self.first_year and last <= self.last_year:
            return
        if self.last_year >= self.first_year:
            first, last = min(first, self.first_year), max(last, self.last_year)
        starts, ends, before, after = array("q"), array("q"), array("q"), array("q")
        total = 0
        for start_us, end_us in self._windows_between(first, last):
            if ends and start_us < ends[-1]:
                start_us = ends[-1]  # overlapping windows count once
                if end_us <= start_us:
                    continue
            starts.append(start_us)
            ends.append(end_us)
            before.append(total)
            total += end_us - start_us
            after.append(total)
        self.first_year, self.last_year = first, last
        self.starts, self.ends, self.cum_before, self.cum_after = starts, ends, before, after

    def _cover(self, moment_us: int, ahead_years: int = 1) -> None:
        year = from_micros(moment_us).year
        self.ensure_years(year - 1, year + ahead_years)

    # -- queries ----------------------------------------------------------------
    def cumulative_at(self, moment_us: int) -> int:
        """Business microseconds from the start of the compiled span to moment."""
        i = bisect.bisect_right(self.starts, moment_us) - 1
        if i < 0:
            return 0
        return self.cum_before[i] + min(moment_us - self.starts[i], self.ends[i] - self.starts[i])

    def elapsed_us(self, start_us: int, end_us: int) -> int:
        """Business microseconds between two instants (0 when end is not after start)."""
        if end_us <= start_us:
            return 0
        first = from_micros(start_us).year
        last = from_micros(end_us).year
        self.ensure_years(first - 1, last + 1)
        return self.cumulative_at(end_us) - self.cumulative_at(start_us)

    def due_us(self, start_us: int, duration_us: int) -> int:
        """The instant at which `duration_us` of business time has passed since start.

        A start outside working time counts from the next window; a duration that
        ends exactly at the end of a window is due at that end.
        """
        if duration_us < 0:
            raise ValueError("a duration cannot be negative")
        if duration_us == 0:
            return start_us
        self._cover(start_us)
        ahead = 1
        while True:
            target = self.cumulative_at(start_us) + duration_us
            j = bisect.bisect_left(self.cum_after, target)
            if j < len(self.cum_after):
                return self.starts[j] + (target - self.cum_before[j])
            if ahead > MAX_SEARCH_YEARS or self.last_year >= LAST_YEAR:
                raise NoWorkingTime("the calendar has no working time in reach of this duration")
            ahead *= 2
            self.ensure_years(self.first_year, self.last_year + ahead)

    def next_working_us(self, moment_us: int) -> int | None:
        """The first working instant at or after moment, or None if none in reach."""
        self._cover(moment_us)
        i = bisect.bisect_right(self.ends, moment_us)
        if i < len(self.ends):
            return max(moment_us, self.starts[i])
        return None

    # -- datetime conveniences -------------------------------------------------
    def due(self, start: datetime, duration: timedelta) -> datetime:
        return from_micros(self.due_us(to_micros(start), _duration_micros(duration)))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return timedelta(microseconds=self.elapsed_us(to_micros(start), to_micros(end)))


def _duration_micros(duration: timedelta) -> int:
    return (duration.days * 86400 + duration.seconds) * MICROS + duration.microseconds


class RoundTheClock:
    """The calendar of a promise kept at every hour: plain arithmetic."""

    def due_us(self, start_us: int, duration_us: int) -> int:
        if duration_us < 0:
            raise ValueError("a duration cannot be negative")
        return start_us + duration_us

    def elapsed_us(self, start_us: int, end_us: int) -> int:
        return max(0, end_us - start_us)

    def due(self, start: datetime, duration: timedelta) -> datetime:
        return from_micros(self.due_us(to_micros(start), _duration_micros(duration)))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return timedelta(microseconds=self.elapsed_us(to_micros(start), to_micros(end)))


ROUND_THE_CLOCK = RoundTheClock()
BusinessClock = CompiledCalendar | RoundTheClock


def parse_clock_time(value: str) -> time | None:
    """Parse 'HH:MM' (or 'HH:MM:SS'); '24:00' is the end of the day (None)."""
    if value in {"24:00", "24:00:00"}:
        return None
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"{value!r} is not a time of day like 09:00")
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) == 3 else 0
    return time(hour, minute, second)  # raises ValueError when out of range


def parse_weekly_hours(raw: Mapping[str, Sequence[Sequence[str]]]) -> dict[str, list[Window]]:
    """Validate {"mon": [["09:00","12:00"], …], …} into sorted, non-overlapping windows."""
    weekly: dict[str, list[Window]] = {}
    for name, windows in raw.items():
        if name not in WEEKDAYS:
            raise ValueError(f"{name!r} is not a weekday; use one of {', '.join(WEEKDAYS)}")
        parsed: list[Window] = []
        for pair in windows:
            if len(pair) != 2:
                raise ValueError(f"{name}: a window is a pair [start, end]")
            begin = parse_clock_time(pair[0])
            end = parse_clock_time(pair[1])
            if begin is None:
                raise ValueError(f"{name}: a window cannot start at 24:00")
            if end is not None and end <= begin:
                raise ValueError(f"{name}: window {pair[0]}–{pair[1]} ends before it starts")
            parsed.append((begin, end))
        parsed.sort(key=lambda w: w[0])
        for (_, prev_end), (next_begin, _) in zip(parsed, parsed[1:], strict=False):
            if prev_end is None or prev_end > next_begin:
                raise ValueError(f"{name}: working windows overlap")
        weekly[name] = parsed
    return weekly
