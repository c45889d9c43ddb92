"""A slow, obviously-correct business clock for checking the compiled one.

It walks the calendar day by day and resolves each wall-clock time by brute force,
sharing nothing with the engine but the rules object. Conventions (the same as the
engine promises): a wall time that happens twice is its first occurrence; one that
does not happen (the hour skipped in spring) is the first instant whose wall time
lies past it, i.e. the moment the clocks jump.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from promisedesk.lib.businesstime import CalendarRules

US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // US


def wall_of(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


@cache
def utc_of_wall(wall: datetime, zone_name: str) -> int:
    """Micros of the first instant whose wall-clock time in zone is `wall`, or just past it."""
    zone = ZoneInfo(zone_name)
    as_utc = wall.replace(tzinfo=UTC)
    offsets = {
        wall_of(as_utc + timedelta(hours=h), zone) - (as_utc + timedelta(hours=h)).replace(tzinfo=None)
        for h in range(-48, 49)
    }
    hits = [as_utc - o for o in offsets if wall_of(as_utc - o, zone) == wall]
    if hits:
        return micros(min(hits))
    # In a gap: walk forward from an instant that is surely before it.
    moment = as_utc - max(offsets) - timedelta(minutes=1)
    assert wall_of(moment, zone) < wall
    while wall_of(moment, zone) < wall:
        moment += timedelta(minutes=1)
    moment -= timedelta(minutes=1)
    while wall_of(moment, zone) < wall:
        moment += timedelta(seconds=1)
    return micros(moment)


def windows_of_day(rules: CalendarRules, day: date) -> list[tuple[int, int]]:
    out = []
    for begin, end in rules.windows_on(day):
        start = utc_of_wall(datetime.combine(day, begin), rules.timezone)
        finish_wall = datetime.combine(day, end) if end is not None else datetime.combine(day + timedelta(1), time(0))
        finish = utc_of_wall(finish_wall, rules.timezone)
        if finish > start:
            out.append((start, finish))
    return out


def local_day(moment_us: int, rules: CalendarRules) -> date:
    return (EPOCH + timedelta(microseconds=moment_us)).astimezone(ZoneInfo(rules.timezone)).date()


def elapsed(rules: CalendarRules, start_us: int, end_us: int) -> int:
    if end_us <= start_us:
        return 0
    total = 0
    day = local_day(start_us, rules) - timedelta(days=2)
    last = local_day(end_us, rules) + timedelta(days=2)
    while day <= last:
        for begin, finish in windows_of_day(rules, day):
            total += max(0, min(finish, end_us) - max(begin, start_us))
        day += timedelta(days=1)
    return total


def due(rules: CalendarRules, start_us: int, duration_us: int, max_days: int = 800) -> int:
    if duration_us == 0:
        return start_us
    remaining = duration_us
    day = local_day(start_us, rules) - timedelta(days=2)
    for _ in range(max_days):
        for begin, finish in windows_of_day(rules, day):
            if finish <= start_us:
                continue
            begin = max(begin, start_us)
            if remaining <= finish - begin:
                return begin + remaining
            remaining -= finish - begin
        day += timedelta(days=1)
    raise AssertionError("the oracle found no working time in reach")


def windows_around(rules: CalendarRules, moment_us: int) -> list[tuple[int, int]]:
    day = local_day(moment_us, rules)
    return [w for d in range(-2, 3) for w in windows_of_day(rules, day + timedelta(days=d))]
