"""Calendars over HTTP: create, read, change, and ask for due times and elapsed time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from promisedesk.errors import DomainError, NotFound
from promisedesk.lib.businesstime import NoWorkingTime, to_micros
from promisedesk.lib.durations import parse_duration
from promisedesk.schemas import Input, page

from .actions import do_add_days, do_change_calendar, do_create_calendar, do_import_ical
from .compiled import clock_for
from .models import BusinessCalendar

router = Router(tags=["calendars"])

Day = Field(max_length=10)
Windows = dict[str, list[tuple[str, str]]]


class CalendarIn(Input):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(max_length=64)
    weekly_hours: Windows
    holidays: list[str] = Field(default_factory=list, max_length=5000)
    extra_workdays: list[str] = Field(default_factory=list, max_length=5000)
    region: str | None = Field(default=None, max_length=10)


class CalendarPatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    weekly_hours: Windows | None = None
    holidays: list[str] | None = Field(default=None, max_length=5000)
    extra_workdays: list[str] | None = Field(default=None, max_length=5000)
    reason: str = Field(default="calendar changed", max_length=500)


class DaysIn(Input):
    holidays: list[str] = Field(default_factory=list, max_length=5000)
    extra_workdays: list[str] = Field(default_factory=list, max_length=5000)
    reason: str = Field(default="days added", max_length=500)


class CalendarOut(Schema):
    id: int
    name: str
    timezone: str
    weekly_hours: dict[str, Any]
    holidays: list[str]
    extra_workdays: list[str]
    region: str | None
    revision: int
    updated_at: datetime


class CalendarList(Schema):
    items: list[CalendarOut]
    count: int


class ChangeOut(Schema):
    calendar: CalendarOut
    clocks_recomputed: int


class DueOut(Schema):
    due_at: datetime


class ElapsedOut(Schema):
    business_seconds: int


def render(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "timezone": calendar.timezone,
        "weekly_hours": calendar.weekly_hours,
        "holidays": calendar.holidays,
        "extra_workdays": calendar.extra_workdays,
        "region": calendar.region,
        "revision": calendar.revision,
        "updated_at": calendar.updated_at,
    }


def get_calendar(calendar_id: int) -> BusinessCalendar:
    found = BusinessCalendar.objects.filter(pk=calendar_id).first()
    if found is None:
        raise NotFound(f"calendar {calendar_id}")
    return found


def _aware(moment: datetime, calendar: BusinessCalendar, field: str) -> datetime:
    if moment.year < 1972 or moment.year > 2190:
        raise DomainError("out_of_range", "times must lie between 1972 and 2190", field)
    if moment.tzinfo is None:
        # A time without an offset is read as wall-clock time in the calendar's zone.
        return moment.replace(tzinfo=ZoneInfo(calendar.timezone))
    return moment


@router.post("", response={201: CalendarOut})
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Status:
    data = payload.model_dump()
    data["weekly_hours"] = {k: [list(w) for w in v] for k, v in data["weekly_hours"].items()}
    return Status(201, render(do_create_calendar(now=timezone.now(), **data)))


@router.get("", response=CalendarList)
def list_calendars(request: HttpRequest, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    return page(BusinessCalendar.objects.order_by("id"), limit, offset, render)


@router.get("/{calendar_id}", response=CalendarOut)
def read_calendar(request: HttpRequest, calendar_id: int) -> dict[str, Any]:
    return render(get_calendar(calendar_id))


@router.patch("/{calendar_id}", response=ChangeOut)
def change_calendar(request: HttpRequest, calendar_id: int, payload: CalendarPatch) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    reason = changes.pop("reason", "calendar changed")
    changes = {k: v for k, v in changes.items() if v is not None}
    if "weekly_hours" in changes:
        changes["weekly_hours"] = {k: [list(w) for w in v] for k, v in changes["weekly_hours"].items()}
    calendar, moved = do_change_calendar(get_calendar(calendar_id), now=timezone.now(), reason=reason, **changes)
    return {"calendar": render(calendar), "clocks_recomputed": moved}


@router.post("/{calendar_id}/days", response=ChangeOut)
def add_days(request: HttpRequest, calendar_id: int, payload: DaysIn) -> dict[str, Any]:
    calendar, moved = do_add_days(get_calendar(calendar_id), now=timezone.now(), **payload.model_dump())
    return {"calendar": render(calendar), "clocks_recomputed": moved}


@router.post("/{calendar_id}/ical", response=ChangeOut)
def import_ical(request: HttpRequest, calendar_id: int, file: UploadedFile = File(...)) -> dict[str, Any]:
    if file.size and file.size > 2_000_000:
        raise DomainError("too_large", "an iCalendar file may be at most 2 MB", "file")
    calendar, moved = do_import_ical(get_calendar(calendar_id), now=timezone.now(), data=file.read())
    return {"calendar": render(calendar), "clocks_recomputed": moved}


@router.get("/{calendar_id}/due", response=DueOut)
def due(request: HttpRequest, calendar_id: int, start: datetime, duration: str) -> dict[str, Any]:
    calendar = get_calendar(calendar_id)
    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise DomainError("invalid_duration", str(exc), "duration") from exc
    begin = _aware(start, calendar, "start")
    try:
        due_at = clock_for(calendar).due(begin, length)
    except NoWorkingTime as exc:
        raise DomainError("no_working_time", str(exc), "duration") from exc
    return {"due_at": due_at.astimezone(ZoneInfo(calendar.timezone))}


@router.get("/{calendar_id}/elapsed", response=ElapsedOut)
def elapsed(request: HttpRequest, calendar_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    calendar = get_calendar(calendar_id)
    begin, finish = _aware(start, calendar, "start"), _aware(end, calendar, "end")
    if finish < begin:
        raise DomainError("end_before_start", "end lies before start", "end")
    micros = clock_for(calendar).elapsed_us(to_micros(begin), to_micros(finish))
    return {"business_seconds": micros // 1_000_000}
