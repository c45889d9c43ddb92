"""Exact business-time arithmetic on working windows.

A calendar is compiled into a sorted table of working windows in UTC microseconds,
with the business time accumulated before each window. Due times and elapsed
business time are then two binary searches, whatever the distance: no walking
minute by minute or day by day.

Local times are resolved in the calendar's time zone day by day, so a window keeps
its wall-clock hours across a DST change and simply lasts an hour more or less (a
round-the-clock or overnight calendar has a 23- or 25-hour day). A wall time skipped
by the change counts as the instant the clocks jump; one that happens twice as its
first occurrence.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MICROS = 1_000_000
DAY_MICROS = 86400 * MICROS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICRO = timedelta(microseconds=1)
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
    调休: a Saturday or Sunday worked in exchange for a holiday). An extra workday
    keeps its own weekday's hours if it has any, and otherwise works
    `makeup_windows` (by default those of the first weekday that has hours).
    A date in both sets is worked.
    """

    timezone: str
    weekly: Mapping[str, Sequence[Window]]
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    makeup_windows: Sequence[Window] | None = None

    def windows_on(self, day: date) -> Sequence[Window]:
        if day in self.extra_workdays:
            own = self.weekly.get(WEEKDAYS[day.weekday()])
            if own:
                return own
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

    def has_working_time(self) -> bool:
        """Whether any day at all can have working windows."""
        return self.has_weekly_hours() or bool(self.extra_workdays and self.makeup_windows)


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    delta = moment - EPOCH  # exact; a little faster than `// ONE_MICRO`
    return (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(0, 0, value)  # positional: measurably faster than microseconds=


def _clock_micros(at: time | None) -> int:
    """Micros from midnight to a wall-clock time (None: the following midnight)."""
    if at is None:
        return DAY_MICROS
    return ((at.hour * 60 + at.minute) * 60 + at.second) * MICROS + at.microsecond


def _midnight_offset(day: date, zone: ZoneInfo) -> timedelta:
    offset = datetime(day.year, day.month, day.day, tzinfo=zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _utc_year_start(year: int) -> int:
    return to_micros(datetime(year, 1, 1, tzinfo=UTC))


def _local_micros(day: date, at: time | None, zone: ZoneInfo) -> int:
    """The instant of wall-clock time `at` on `day` in zone (None: the following midnight).

    A wall time that occurs twice (the hour repeated in autumn) is its first
    occurrence; one that does not exist (the hour skipped in spring) is the instant
    the clocks jump, so a window keeps its wall-clock hours and merely loses the gap.
    """
    if at is None:
        moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    else:
        moment = datetime.combine(day, at, tzinfo=zone)
    before = moment.utcoffset()
    after = moment.replace(fold=1).utcoffset()
    if before is not None and after is not None and before < after:
        return _gap_end(moment, zone, after)
    return to_micros(moment)


def _gap_end(moment: datetime, zone: ZoneInfo, after: timedelta) -> int:
    """The transition instant of the gap that the wall time `moment` falls into.

    Read with the offset after the gap the wall time is an instant before the
    transition, read with the one before it an instant after it; transitions fall on
    whole seconds, so bisecting that interval by seconds finds the jump.
    """
    naive = moment.replace(tzinfo=None)
    low = to_micros(naive.replace(tzinfo=UTC) - after) // MICROS  # offset "before" holds here
    high = to_micros(moment) // MICROS  # offset "after" holds here
    while high - low > 1:
        mid = (low + high) // 2
        if from_micros(mid * MICROS).astimezone(zone).utcoffset() == after:
            high = mid
        else:
            low = mid
    return high * MICROS


class _Table:
    """One immutable compilation: windows of local years first..last in UTC micros.

    `before[i]`/`after[i]` are the business micros accumulated from the first window
    up to the start/end of window i. Queries take one table and use only it, so a
    thread that recompiles (and swaps in a bigger table) never mixes two tables.
    `lo`..`hi` is the UTC range (the years first+1..last-1) inside which a moment has
    at least a year of compiled time on either side.
    """

    __slots__ = ("first", "last", "starts", "ends", "before", "after", "lo", "hi")

    def __init__(self, first: int, last: int, starts: array, ends: array, before: array, after: array):
        self.first, self.last = first, last
        self.starts, self.ends, self.before, self.after = starts, ends, before, after
        if last - first >= 2:
            self.lo, self.hi = _utc_year_start(first + 1), _utc_year_start(last)
        else:
            self.lo, self.hi = 0, 0  # nothing is safely inside: always take the slow path

    def covers(self, first: int, last: int) -> bool:
        return self.first <= first and last <= self.last

    def cumulative_at(self, moment_us: int) -> int:
        i = bisect_right(self.starts, moment_us) - 1
        if i < 0:
            return 0
        return self.before[i] + min(moment_us, self.ends[i]) - self.starts[i]


_EMPTY = _Table(0, -1, array("q"), array("q"), array("q"), array("q"))


class CompiledCalendar:
    """Working windows of a span of years, with cumulative business time.

    The span is compiled lazily around the instants asked about and grows as needed;
    every query is then one or two binary searches.
    """

    def __init__(self, rules: CalendarRules):
        self.rules = rules
        self._zone = ZoneInfo(rules.timezone)
        self._table = _EMPTY
        self._any_hours = rules.has_working_time()

    # The compiled span, for inspection and tests.
    @property
    def first_year(self) -> int:
        return self._table.first

    @property
    def last_year(self) -> int:
        return self._table.last

    @property
    def starts(self) -> array:
        return self._table.starts

    @property
    def ends(self) -> array:
        return self._table.ends

    @property
    def cum_before(self) -> array:
        return self._table.before

    @property
    def cum_after(self) -> array:
        return self._table.after

    # -- building -------------------------------------------------------------
    def _windows_between(self, first: int, last: int) -> Iterable[tuple[int, int]]:
        """Each working window of the local years first..last as UTC micros.

        On a day whose midnight and following midnight read the same UTC offset the
        clocks do not change, so its windows are plain arithmetic (a midnight that
        is skipped or repeated reads the offset before the change, which is what
        `_local_micros` gives a 24:00 end too). Only the days with a change go
        through the zone window by window.
        """
        zone, windows_on = self._zone, self.rules.windows_on
        day, stop, one = date(first, 1, 1), date(last + 1, 1, 1), timedelta(days=1)
        midnight = to_micros(datetime(first, 1, 1, tzinfo=UTC))  # the day's wall-clock midnight
        # Each distinct window list as micros from midnight; the list itself is kept
        # alongside so that its id cannot be reused by another list meanwhile.
        in_micros: dict[int, tuple[Sequence[Window], list[tuple[int, int]]]] = {}
        offset: timedelta | None = None  # the UTC offset at this day's midnight, when known
        while day < stop:
            following = day + one
            windows = windows_on(day)
            if windows:
                if offset is None:
                    offset = _midnight_offset(day, zone)
                next_offset = _midnight_offset(following, zone)
                if offset == next_offset:
                    known = in_micros.get(id(windows))
                    if known is None:
                        pairs = [(_clock_micros(b), _clock_micros(e)) for b, e in windows]
                        known = in_micros[id(windows)] = (windows, [(b, e) for b, e in pairs if e > b])
                    clock = known[1]
                    base = midnight - offset // ONE_MICRO
                    for begin_us, end_us in clock:
                        yield base + begin_us, base + end_us
                else:
                    for begin, end in windows:
                        start_us = _local_micros(day, begin, zone)
                        end_us = _local_micros(day, end, zone)
                        if end_us > start_us:
                            yield start_us, end_us
                offset = next_offset
            else:
                offset = None
            day, midnight = following, midnight + DAY_MICROS

    def _compile(self, first: int, last: int) -> _Table:
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
        return _Table(first, last, starts, ends, before, after)

    def _ensure(self, first: int, last: int) -> _Table:
        """A table covering at least the years first..last (clamped to the supported range)."""
        first = min(max(first, FIRST_YEAR), LAST_YEAR)
        last = max(min(last, LAST_YEAR), first)
        table = self._table
        if table.covers(first, last):
            return table
        if table.last >= table.first:
            first, last = min(first, table.first), max(last, table.last)
        table = self._compile(first, last)
        self._table = table
        return table

    def ensure_years(self, first: int, last: int) -> None:
        """Compile at least the years first..last (clamped to the supported range)."""
        self._ensure(first, last)

    def _around(self, moment_us: int) -> _Table:
        table = self._table
        if table.lo <= moment_us < table.hi:
            return table
        year = from_micros(moment_us).year
        return self._ensure(year - 1, year + 1)

    # -- queries ----------------------------------------------------------------
    def cumulative_at(self, moment_us: int) -> int:
        """Business microseconds from the start of the compiled span to moment."""
        return self._table.cumulative_at(moment_us)

    def elapsed_us(self, start_us: int, end_us: int) -> int:
        """Business microseconds between two instants (0 when end is not after start)."""
        if end_us <= start_us:
            return 0
        table = self._table
        if not (table.lo <= start_us and end_us < table.hi):
            first = from_micros(start_us).year
            last = from_micros(end_us).year
            table = self._ensure(first - 1, last + 1)
        return table.cumulative_at(end_us) - table.cumulative_at(start_us)

    def due_us(self, start_us: int, duration_us: int) -> int:
        """The instant at which `duration_us` of business time has passed since start.

        A start outside working time counts from the next window; a duration that
        ends exactly at the end of a window is due at that end; a zero duration is
        due at start.
        """
        if duration_us <= 0:
            if duration_us == 0:
                return start_us
            raise ValueError("a duration cannot be negative")
        table = self._table
        if not (table.lo <= start_us < table.hi):
            table = self._around(start_us)
        # table.cumulative_at inlined: this is the hot path of every clock
        starts, before = table.starts, table.before
        i = bisect_right(starts, start_us) - 1
        target = duration_us if i < 0 else before[i] + min(start_us, table.ends[i]) - starts[i] + duration_us
        j = bisect_left(table.after, target)
        if j < len(starts):
            return starts[j] + (target - before[j])
        return self._due_beyond(start_us, duration_us, table)

    def _due_beyond(self, start_us: int, duration_us: int, table: _Table) -> int:
        """due_us when the compiled span ends first: compile further, doubling the reach."""
        if not self._any_hours:
            raise NoWorkingTime("the calendar has no working time at all")
        ahead = 1
        while True:
            if ahead > MAX_SEARCH_YEARS or table.last >= LAST_YEAR:
                raise NoWorkingTime("the calendar has no working time in reach of this duration")
            ahead *= 2
            table = self._ensure(table.first, table.last + ahead)
            target = table.cumulative_at(start_us) + duration_us
            j = bisect_left(table.after, target)
            if j < len(table.after):
                return table.starts[j] + (target - table.before[j])

    def next_working_us(self, moment_us: int) -> int | None:
        """The first working instant at or after moment, or None if none in reach."""
        table = self._around(moment_us)
        i = bisect_right(table.ends, moment_us)
        if i < len(table.ends):
            return max(moment_us, table.starts[i])
        return None

    # -- datetime conveniences -------------------------------------------------
    def due(self, start: datetime, duration: timedelta) -> datetime:
        """due_us on datetimes (the result in UTC); the common case is inlined for speed."""
        if start.tzinfo is None:
            raise ValueError("business-time arithmetic needs aware datetimes")
        delta = start - EPOCH
        start_us = (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds
        duration_us = (duration.days * 86400 + duration.seconds) * MICROS + duration.microseconds
        table = self._table
        if duration_us > 0 and table.lo <= start_us < table.hi:
            starts, before = table.starts, table.before
            i = bisect_right(starts, start_us) - 1
            target = duration_us if i < 0 else before[i] + min(start_us, table.ends[i]) - starts[i] + duration_us
            j = bisect_left(table.after, target)
            if j < len(starts):
                return EPOCH + timedelta(0, 0, starts[j] + (target - before[j]))
        return EPOCH + timedelta(0, 0, self.due_us(start_us, duration_us))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return timedelta(0, 0, self.elapsed_us(to_micros(start), to_micros(end)))


def _duration_micros(duration: timedelta) -> int:
    return duration // ONE_MICRO


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
        return timedelta(0, 0, self.elapsed_us(to_micros(start), to_micros(end)))


ROUND_THE_CLOCK = RoundTheClock()
BusinessClock = CompiledCalendar | RoundTheClock


def parse_clock_time(value: str) -> time | None:
    """Parse 'HH:MM' (or 'HH:MM:SS'); '24:00' is the end of the day (None)."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time of day like 09:00")
    if value in {"24:00", "24:00:00"}:
        return None
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"{value!r} is not a time of day like 09:00")
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) == 3 else 0
    return time(hour, minute, second)  # raises ValueError when out of range


def parse_weekly_hours(raw: Mapping[str, Sequence[Sequence[str]]]) -> dict[str, list[Window]]:
    """Validate {"mon": [["09:00","12:00"], …], …} into sorted, non-overlapping windows."""
    if not isinstance(raw, Mapping):
        raise ValueError('weekly hours are an object like {"mon": [["09:00", "18:00"]]}')
    weekly: dict[str, list[Window]] = {}
    for name, windows in raw.items():
        if name not in WEEKDAYS:
            raise ValueError(f"{name!r} is not a weekday; use one of {', '.join(WEEKDAYS)}")
        if isinstance(windows, str | bytes) or not isinstance(windows, Sequence):
            raise ValueError(f"{name}: working windows are a list of [start, end] pairs")
        parsed: list[Window] = []
        for pair in windows:
            if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValueError(f"{name}: a window is a pair [start, end]")
            begin = parse_clock_time(pair[0])
            end = parse_clock_time(pair[1])
            if begin is None:
                raise ValueError(f"{name}: a window cannot start at 24:00")
            if end is not None and end <= begin:
                raise ValueError(f"{name}: window {pair[0]}–{pair[1]} does not end after it starts")
            parsed.append((begin, end))
        parsed.sort(key=lambda w: w[0])
        for (_, prev_end), (next_begin, _) in zip(parsed, parsed[1:], strict=False):
            if prev_end is None or prev_end > next_begin:
                raise ValueError(f"{name}: working windows overlap")
        weekly[name] = parsed
    return weekly
