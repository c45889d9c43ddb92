"""Creating and changing business calendars."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.db import IntegrityError, transaction

from promisedesk.errors import DomainError
from promisedesk.lib.businesstime import parse_weekly_hours

from .compiled import forget
from .ical import BadICalendar, days_from_ical
from .models import BusinessCalendar
from .statutory import UnknownRegion, default_years, statutory_days

# Files in the zone database that are not zone names: a calendar must not follow
# whatever the server's own clock is set to.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def _check_timezone(name: str) -> None:
    """Only names from the zone database's list: no file paths, directories or leap-second zones."""
    try:
        if name not in _zone_names():
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as exc:
        raise DomainError("invalid_timezone", f"{name!r} is not an IANA time zone", "timezone") from exc


def _check_name(name: str) -> str:
    if not name.strip():
        raise DomainError("invalid_name", "a calendar needs a name", "name")
    return name


def _check_apart(holidays: set[str], extra_workdays: set[str]) -> None:
    both = sorted(holidays & extra_workdays)
    if both:
        raise DomainError(
            "conflicting_days",
            f"{', '.join(both)} cannot be both a holiday and a make-up workday",
            "extra_workdays",
        )


def _check_weekly(weekly: dict[str, Any]) -> None:
    try:
        parsed = parse_weekly_hours(weekly)
    except (ValueError, TypeError) as exc:
        raise DomainError("invalid_hours", str(exc), "weekly_hours") from exc
    if not any(parsed.values()):
        raise DomainError("no_working_time", "a calendar needs at least one working window in the week", "weekly_hours")


def _iso_days(values: list[str], field: str) -> list[str]:
    out = set()
    for value in values:
        try:
            out.add(date.fromisoformat(value).isoformat())
        except (ValueError, TypeError) as exc:
            raise DomainError("invalid_date", f"{value!r} is not a date like 2026-10-01", field) from exc
    return sorted(out)


def _region_days(region: str, today: date) -> tuple[list[str], list[str]]:
    try:
        offs, works = statutory_days(region, default_years(today))
    except UnknownRegion as exc:
        raise DomainError("unknown_region", str(exc), "region") from exc
    return [d.isoformat() for d in offs], [d.isoformat() for d in works]


def do_create_calendar(
    *,
    now: datetime,
    name: str,
    timezone: str,
    weekly_hours: dict[str, Any],
    holidays: list[str] | None = None,
    extra_workdays: list[str] | None = None,
    region: str | None = None,
) -> BusinessCalendar:
    """Create a calendar; a region adds that country's statutory days to the given ones.

    Days given explicitly win over the region's: a statutory holiday listed as an
    extra workday is worked, and the other way round. Nothing is written on error.
    """
    _check_name(name)
    _check_timezone(timezone)
    _check_weekly(weekly_hours)
    offs = set(_iso_days(holidays or [], "holidays"))
    works = set(_iso_days(extra_workdays or [], "extra_workdays"))
    _check_apart(offs, works)
    if region:
        region_offs, region_works = _region_days(region, now.date())
        offs |= set(region_offs) - works
        works |= set(region_works) - offs
    if BusinessCalendar.objects.filter(name=name).exists():
        raise _duplicate(name)
    try:
        with transaction.atomic():
            return BusinessCalendar.objects.create(
                name=name,
                timezone=timezone,
                weekly_hours=weekly_hours,
                holidays=sorted(offs),
                extra_workdays=sorted(works),
                region=region.upper() if region else None,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError as exc:  # a concurrent request took the name in between
        raise _duplicate(name) from exc


def _duplicate(name: str) -> DomainError:
    return DomainError("duplicate", f"a calendar named {name!r} exists already", "name", status=409)


def do_change_calendar(
    calendar: BusinessCalendar, *, now: datetime, reason: str, **changes: Any
) -> tuple[BusinessCalendar, int]:
    """Change a calendar and recompute every open clock on it; returns (calendar, clocks moved).

    The change and the recomputation commit together, so no clock is left on the
    old rules. A day cannot be both a holiday and a make-up workday: given in both
    lists at once it is refused; given in one list, it leaves the other.
    """
    from promisedesk.commitments.recompute import recompute_open_clocks
    from promisedesk.escalations.pickup import reschedule_calendar

    if "name" in changes:
        _check_name(changes["name"])
    if "timezone" in changes:
        _check_timezone(changes["timezone"])
    if "weekly_hours" in changes:
        _check_weekly(changes["weekly_hours"])
    for key in ("holidays", "extra_workdays"):
        if key in changes:
            changes[key] = _iso_days(changes[key], key)
    if "holidays" in changes and "extra_workdays" in changes:
        _check_apart(set(changes["holidays"]), set(changes["extra_workdays"]))
    if "name" in changes and BusinessCalendar.objects.filter(name=changes["name"]).exclude(pk=calendar.pk).exists():
        raise _duplicate(changes["name"])
    try:
        with transaction.atomic():
            locked = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
            _keep_apart(locked, changes)
            for key, value in changes.items():
                setattr(locked, key, value)
            locked.revision += 1
            locked.updated_at = now
            locked.save(update_fields=[*changes.keys(), "revision", "updated_at"])
            moved = recompute_open_clocks(locked, now=now, reason=reason)
            # Escalations that now fall due sooner (a holiday taken back) must not wait for their old instant.
            reschedule_calendar(locked.pk, now)
    except Exception as exc:
        forget(calendar.pk)  # what was compiled from the rolled-back rules must not be reused
        if isinstance(exc, IntegrityError) and "name" in changes:
            raise _duplicate(changes["name"]) from exc  # a concurrent request took the name in between
        raise
    return locked, moved


def _keep_apart(calendar: BusinessCalendar, changes: dict[str, Any]) -> None:
    """When one of the day lists changes, drop its days from the other (the newest word wins)."""
    for changed, other in (("holidays", "extra_workdays"), ("extra_workdays", "holidays")):
        if changed in changes and other not in changes:
            new = set(changes[changed])
            kept = [d for d in getattr(calendar, other) if d not in new]
            if kept != getattr(calendar, other):
                changes[other] = kept


def do_add_days(
    calendar: BusinessCalendar, *, now: datetime, holidays: list[str], extra_workdays: list[str], reason: str
) -> tuple[BusinessCalendar, int]:
    """Add holidays and make-up workdays (a day cannot be both; the newest wins)."""
    new_offs = set(_iso_days(holidays, "holidays"))
    new_works = set(_iso_days(extra_workdays, "extra_workdays"))
    _check_apart(new_offs, new_works)
    offs = (set(calendar.holidays) - new_works) | new_offs
    works = (set(calendar.extra_workdays) - new_offs) | new_works
    return do_change_calendar(calendar, now=now, reason=reason, holidays=sorted(offs), extra_workdays=sorted(works))


def do_import_ical(calendar: BusinessCalendar, *, now: datetime, data: bytes) -> tuple[BusinessCalendar, int]:
    try:
        offs, works = days_from_ical(data)
    except BadICalendar as exc:
        raise DomainError("invalid_ical", str(exc), "file") from exc
    return do_add_days(
        calendar,
        now=now,
        holidays=[d.isoformat() for d in offs],
        extra_workdays=[d.isoformat() for d in works],
        reason="iCalendar import",
    )
